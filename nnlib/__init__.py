"""nnlib: the small NumPy library behind the course *Neural Networks: Part I*.

One module per idea of the lecture:

=====================  ===============================================  =======
module                 what                                             chapter
=====================  ===============================================  =======
``nnlib.data``         seeded data sets for every example               1-8
``nnlib.neurons``      McCulloch-Pitts units, Rosenblatt's perceptron    3, 4
``nnlib.activations``  activation functions and their derivatives       5
``nnlib.losses``       loss functions and their gradients               6
``nnlib.layers``       the dense layer f(A x + b), forward and backward 7
``nnlib.network``      ``Sequential`` networks and ``mlp``              7
``nnlib.optim``        stochastic gradient descent                      7
``nnlib.gradcheck``    centred-difference gradient checks               7
``nnlib.training``     ``fit``: epochs, minibatches, early stopping     8
``nnlib.metrics``      accuracy, ROC curve                              8
=====================  ===============================================  =======
"""

from . import activations, data, gradcheck, layers, losses, metrics, network, neurons, optim, training
from .layers import Dense
from .network import Sequential, mlp
from .optim import SGD
from .training import History, fit

__version__ = "0.1.0"

__all__ = [
    "activations", "data", "gradcheck", "layers", "losses", "metrics", "network", "neurons",
    "optim", "training", "Dense", "Sequential", "mlp", "SGD", "History", "fit",
]
