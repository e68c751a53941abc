"""Write solutions/03-mcculloch-pitts/mcculloch_pitts.ipynb (homework 3, McCulloch-Pitts neurons).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_03_mcculloch_pitts.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "03-mcculloch-pitts" / "mcculloch_pitts.ipynb"

MP = "Chapter 3, 'The McCulloch-Pitts neuron' (book/03-neurons.md)"
GATES = "Chapter 3, 'Logic gates' (book/03-neurons.md)"
XOR = "Chapter 3, 'XOR needs two layers' (book/03-neurons.md)"

cells = [
    markdown("intro", """
    # Homework 3: McCulloch-Pitts neurons

    **Read first:** book chapter 3, *Biological and McCulloch-Pitts neurons*
    (`book/03-neurons.md`), sections *The McCulloch-Pitts neuron*, *Logic gates* and *XOR
    needs two layers*.

    A McCulloch-Pitts unit has binary inputs, each excitatory or inhibitory, and a threshold
    $\\theta$; it fires when no inhibitory input is active and at least $\\theta$ excitatory
    inputs are. In this homework you

    * **A** (12 points) write the unit yourself, choose its parameters for the logic gates,
      and wire XOR from two layers of units;
    * **B** (3 points) build a circuit the book does not show, a one-bit *full adder*;
    * **C** (3 points) use `nnlib.neurons.McCullochPitts` to make a unit that recognises
      one input pattern;
    * **D** (2 points, graded by hand) explain why a single unit cannot compute XOR.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In parts A and B **do not call
    `nnlib.neurons.McCullochPitts` or `nnlib.neurons.xor`**: build everything from your own
    `mp_unit`. The tests check that `nand`, `xor_mp` and `full_adder` are circuits of your
    units: every signal and every column of the result comes out of an `mp_unit` call (a
    column of ones or zeros as an extra input is fine), none is computed with NumPy. Your
    functions must not modify the arrays they are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run
    the notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one
    says what is wrong and which book section to read. Hidden tests, run at grading time,
    compare your unit with `nnlib` on random units and inputs (while blocking `nnlib`'s own
    unit). Before you submit, run

        nbgrader validate mcculloch_pitts.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `mp_unit` (6), gate parameters (2), `nand` (1), `xor_mp` (3) | 12 |
    | B | `full_adder` | 3 |
    | C | `pattern_detector` | 3 |
    | D | written answer | 2 |
    """),
    code("setup", """
    import itertools

    import numpy as np

    import nnlib
    from nnlib.neurons import McCullochPitts
    from nnlib.testing import (check_circuit, check_close, check_raises, check_shape, check_true, forbid_calls,
                               record_calls)


    def all_inputs(n):
        \"\"\"Every binary input pattern of length n, one per row, in counting order: shape (2**n, n).\"\"\"
        return np.array(list(itertools.product([0, 1], repeat=n)), dtype=int).reshape(-1, n)


    X2 = all_inputs(2)  # (0, 0), (0, 1), (1, 0), (1, 1)
    """),
    # ------------------------------------------------------------- the unit
    markdown("unit_md", r"""
    ## Part A: McCulloch-Pitts units from scratch

    ### A1. The unit (6 points)

    $$y = \begin{cases} 1 & \sum_{j \in E} x_j \ge \theta \text{ and } x_k = 0 \text{ for all } k \in I,\\
                        0 & \text{otherwise,} \end{cases}$$

    where $I$ is the set of inhibitory inputs and $E$ all the others (excitatory).
    Write `mp_unit(x, threshold, inhibitory=())`:

    * `x`: array of 0s and 1s of shape `(N, n_inputs)`, one input pattern per row;
    * `threshold`: the integer $\theta \ge 0$;
    * `inhibitory`: the column indices of the inhibitory inputs (possibly empty);
    * return an integer array of shape `(N,)`, the output for each row;
    * raise `ValueError` if `x` contains anything other than 0 and 1.
    """),
    answer("mp_unit", """
    def mp_unit(x, threshold, inhibitory=()):
        \"\"\"Outputs (N,) of a McCulloch-Pitts unit for the binary input patterns x (N, n_inputs).\"\"\"
        ### BEGIN SOLUTION
        x = np.asarray(x)
        if np.any((x != 0) & (x != 1)):
            raise ValueError("McCulloch-Pitts inputs must be 0 or 1")
        inhibitory = list(inhibitory)
        excitatory = [j for j in range(x.shape[1]) if j not in inhibitory]
        excite = x[:, excitatory].sum(axis=1)
        inhibited = x[:, inhibitory].sum(axis=1) > 0
        return ((excite >= threshold) & ~inhibited).astype(int)
        ### END SOLUTION
    """),
    test("test_mp_unit_values", 2, f"""
    \"\"\"mp_unit: the majority of three inputs, threshold 0, and absolute inhibition.\"\"\"
    READ = "{MP}"
    X3 = all_inputs(3)
    check_close(mp_unit(X3, 2), [0, 0, 0, 1, 0, 1, 1, 1],
                what="mp_unit(x, threshold=2) on the 8 three-input patterns (majority)", read=READ)
    check_shape(mp_unit(X3, 2), (8,), what="mp_unit on 8 patterns", read=READ)
    dtype = np.asarray(mp_unit(X3, 2)).dtype
    check_true(np.issubdtype(dtype, np.integer),
               f"mp_unit should return an integer array of 0s and 1s, got dtype {{dtype}} (use .astype(int))", read=READ)
    check_close(mp_unit(X2, 0), [1, 1, 1, 1], what="mp_unit(x, threshold=0) without inhibitory inputs", read=READ)
    # input 0 inhibitory: any pattern with x_0 = 1 is silenced, whatever the others do
    check_close(mp_unit(X3, 1, inhibitory=[0]), [0, 1, 1, 1, 0, 0, 0, 0],
                what="mp_unit(x, threshold=1, inhibitory=[0]) on the 8 three-input patterns", read=READ)
    """),
    test("test_mp_unit_rejects_non_binary", 1, f"""
    \"\"\"mp_unit raises ValueError for inputs that are not 0 or 1.\"\"\"
    READ = "{MP}"
    check_raises(lambda: mp_unit(np.array([[0, 2]]), 1), ValueError,
                 what="mp_unit with an input of 2", read=READ)
    check_raises(lambda: mp_unit(np.array([[0.5, 1.0]]), 1), ValueError,
                 what="mp_unit with an input of 0.5", read=READ)
    """),
    test("test_mp_unit_hidden", 3, f"""
    \"\"\"Hidden tests: mp_unit agrees with nnlib's McCullochPitts on random units, without calling it.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{MP}"
    rng = np.random.default_rng(3001)
    for _ in range(12):
        n = int(rng.integers(1, 6))
        threshold = int(rng.integers(0, n + 2))
        inhibitory = sorted(rng.choice(n, size=int(rng.integers(0, n)), replace=False).tolist())
        X = all_inputs(n)[rng.permutation(2 ** n)]
        X_before = X.copy()
        expected = McCullochPitts(threshold, n, inhibitory)(X)
        with forbid_calls(McCullochPitts.__call__, nnlib.neurons.xor, exercise="mp_unit", read=READ):
            got = mp_unit(X, threshold, inhibitory)
        check_close(got, expected, what=f"mp_unit(x, threshold={{threshold}}, inhibitory={{inhibitory}}) "
                    f"with {{n}} inputs", read=READ)
        check_true(np.array_equal(X, X_before), "mp_unit modified its input x", read=READ)
    ### END HIDDEN TESTS
    """),
    # ---------------------------------------------------------------- gates
    markdown("gates_md", r"""
    ### A2. Logic gates as parameter choices (3 points)

    A gate is a choice of threshold and inhibitory inputs. Define four dictionaries, each with
    the keys `threshold` and `inhibitory` (the arguments of your `mp_unit`), for a single unit
    each: the two-input **AND** and **OR**, the one-input **NOT**, and the two-input **NOR**
    (fires only when both inputs are 0),

    ```python
    AND_UNIT = dict(threshold=..., inhibitory=[...])
    OR_UNIT = dict(threshold=..., inhibitory=[...])
    NOT_UNIT = dict(threshold=..., inhibitory=[...])
    NOR_UNIT = dict(threshold=..., inhibitory=[...])
    ```

    so that `mp_unit(x, **AND_UNIT)` is the AND of the columns of `x`. Then write `nand(x)` for
    the two-input **NAND** (fires unless both inputs are 1) from your `mp_unit` and these
    parameters. One unit is not enough for NAND: absolute inhibition silences the unit as soon
    as *one* inhibitory input is active.
    """),
    answer("gates", """
    ### BEGIN SOLUTION
    AND_UNIT = dict(threshold=2, inhibitory=[])
    OR_UNIT = dict(threshold=1, inhibitory=[])
    NOT_UNIT = dict(threshold=0, inhibitory=[0])
    NOR_UNIT = dict(threshold=0, inhibitory=[0, 1])
    ### END SOLUTION


    def nand(x):
        \"\"\"NAND of the two columns of x (N, 2), from McCulloch-Pitts units; int array (N,).\"\"\"
        ### BEGIN SOLUTION
        return mp_unit(mp_unit(x, **AND_UNIT)[:, None], **NOT_UNIT)
        ### END SOLUTION
    """),
    test("test_gate_parameters", 2, f"""
    \"\"\"AND, OR, NOT and NOR: the parameters give the right truth tables (checked with nnlib's unit).\"\"\"
    READ = "{GATES}"
    for name, params, n, table in [("AND_UNIT", AND_UNIT, 2, [0, 0, 0, 1]), ("OR_UNIT", OR_UNIT, 2, [0, 1, 1, 1]),
                                   ("NOT_UNIT", NOT_UNIT, 1, [1, 0]), ("NOR_UNIT", NOR_UNIT, 2, [1, 0, 0, 0])]:
        check_true(set(params) == {{"threshold", "inhibitory"}},
                   f"{{name}} should have exactly the keys 'threshold' and 'inhibitory', got {{sorted(params)}}", read=READ)
        got = McCullochPitts(n_inputs=n, **params)(all_inputs(n))
        check_close(got, table, what=f"the truth table of a unit with {{name}} = {{params}}", read=READ)
    """),
    test("test_nand_values", 1, f"""
    \"\"\"nand: the truth table, from your own units.\"\"\"
    READ = "{GATES}"
    with forbid_calls(McCullochPitts.__call__, exercise="nand", read=READ), record_calls(mp_unit) as units:
        got = nand(X2)
    check_close(got, [1, 1, 1, 0], what="nand on (0,0), (0,1), (1,0), (1,1)", read=READ)
    check_circuit(units, X2, got, what="nand", unit="mp_unit", read=READ)
    """),
    # ------------------------------------------------------------------ XOR
    markdown("xor_md", r"""
    ### A3. XOR from two layers (3 points)

    Write `xor_mp(x)`, the exclusive or of the two columns of `x` (shape `(N, 2)`), as a network
    of your `mp_unit`s: a first layer of units that all see `x`, and an output unit that sees
    the first layer's outputs. Return an integer array of shape `(N,)`.
    """),
    answer("xor_mp", """
    def xor_mp(x):
        \"\"\"x1 XOR x2 for each row of x (N, 2), from two layers of McCulloch-Pitts units.\"\"\"
        ### BEGIN SOLUTION
        hidden = np.column_stack([mp_unit(x, **OR_UNIT), mp_unit(x, **AND_UNIT)])
        return mp_unit(hidden, threshold=1, inhibitory=[1])
        ### END SOLUTION
    """),
    test("test_xor_values", 1, f"""
    \"\"\"xor_mp: the truth table.\"\"\"
    READ = "{XOR}"
    with record_calls(mp_unit) as units:
        got = xor_mp(X2)
    check_close(got, [0, 1, 1, 0], what="xor_mp on (0,0), (0,1), (1,0), (1,1)", read=READ)
    check_circuit(units, X2, got, what="xor_mp", unit="mp_unit", read=READ)
    """),
    test("test_xor_hidden", 2, f"""
    \"\"\"Hidden tests: xor_mp on a long shuffled batch, built from your own units.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{XOR}"
    rng = np.random.default_rng(3002)
    X = X2[rng.integers(0, 4, size=37)]
    expected = nnlib.neurons.xor(X)
    with forbid_calls(McCullochPitts.__call__, nnlib.neurons.xor, exercise="xor_mp", read=READ), record_calls(mp_unit) as units:
        got = xor_mp(X)
    check_shape(got, (37,), what="xor_mp on 37 patterns", read=READ)
    check_close(got, expected, what="xor_mp on a shuffled batch of 37 patterns", read=READ)
    check_circuit(units, X, got, what="xor_mp", unit="mp_unit", read=READ)
    ### END HIDDEN TESTS
    """),
    # ----------------------------------------------------------- full adder
    markdown("adder_md", r"""
    ## Part B: a one-bit full adder (3 points)

    A full adder adds three bits $a$, $b$ and a carry $c_\text{in}$: the result is the two-bit
    number $(c_\text{out}, s)$ with $a + b + c_\text{in} = 2\,c_\text{out} + s$. So $c_\text{out}$
    is 1 when at least two inputs are 1, and the sum bit $s$ when an odd number are. Write
    `full_adder(x)` for `x` of shape `(N, 3)` (columns $a, b, c_\text{in}$), returning an
    integer array of shape `(N, 2)` with columns $s$ and $c_\text{out}$, built only from your
    `mp_unit`. Hint: units with thresholds 1, 2 and 3 on the three inputs count how many
    inputs are on; "exactly one" is "at least one but not at least two" (inhibition), and
    $s$ is "exactly one, or all three".
    """),
    answer("full_adder", """
    def full_adder(x):
        \"\"\"Sum bit and carry (N, 2) of the three bits in each row of x (N, 3), from McCulloch-Pitts units.\"\"\"
        ### BEGIN SOLUTION
        at_least_one = mp_unit(x, threshold=1)
        at_least_two = mp_unit(x, threshold=2)
        all_three = mp_unit(x, threshold=3)
        exactly_one = mp_unit(np.column_stack([at_least_one, at_least_two]), threshold=1, inhibitory=[1])
        s = mp_unit(np.column_stack([exactly_one, all_three]), threshold=1)
        return np.column_stack([s, at_least_two])
        ### END SOLUTION
    """),
    test("test_full_adder_values", 2, f"""
    \"\"\"full_adder: all eight inputs, and a + b + c_in = 2 c_out + s.\"\"\"
    READ = "{GATES}"
    X3 = all_inputs(3)
    with forbid_calls(McCullochPitts.__call__, nnlib.neurons.xor, exercise="full_adder", read=READ), \\
            record_calls(mp_unit) as units:
        got = full_adder(X3)
    check_shape(got, (8, 2), what="full_adder on the 8 three-bit inputs", read=READ)
    check_close(got[:, 0], X3.sum(axis=1) % 2, what="the sum bit s of full_adder for inputs 000, 001, ..., 111", read=READ)
    check_close(got[:, 1], X3.sum(axis=1) // 2, what="the carry c_out of full_adder for inputs 000, 001, ..., 111", read=READ)
    check_circuit(units, X3, got, what="full_adder", unit="mp_unit", read=READ)
    """),
    test("test_full_adder_hidden", 1, f"""
    \"\"\"Hidden tests: full_adder adds two random 6-bit numbers bit by bit (a ripple-carry adder), built from your mp_unit.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{GATES}"
    rng = np.random.default_rng(3003)
    for _ in range(5):
        p, q = (int(v) for v in rng.integers(0, 64, size=2))
        carry, total = 0, 0
        for k in range(6):
            s, carry = full_adder(np.array([[(p >> k) & 1, (q >> k) & 1, carry]]))[0]
            total += int(s) << k
        total += int(carry) << 6
        check_true(total == p + q, f"adding {{p}} + {{q}} with a chain of six full_adders gave {{total}}", read=READ)
    X = all_inputs(3)[rng.permutation(np.arange(24) % 8)]
    with forbid_calls(McCullochPitts.__call__, nnlib.neurons.xor, exercise="full_adder", read=READ), \\
            record_calls(mp_unit) as units:
        got = full_adder(X)
    check_circuit(units, X, got, what="full_adder on 24 shuffled inputs", unit="mp_unit", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------ pattern detector
    markdown("pattern_md", r"""
    ## Part C: a pattern detector with nnlib (3 points)

    Write `pattern_detector(pattern)` that returns an `nnlib.neurons.McCullochPitts` unit that
    fires for exactly one input pattern, the given one (a sequence of 0s and 1s of length
    $n \ge 1$), and for none of the other $2^n - 1$ patterns. Choose its threshold and its
    inhibitory inputs; `help(McCullochPitts)` shows the arguments.
    """),
    answer("pattern_detector", """
    def pattern_detector(pattern):
        \"\"\"An nnlib McCullochPitts unit that fires only for the binary input `pattern`.\"\"\"
        ### BEGIN SOLUTION
        pattern = np.asarray(pattern)
        return McCullochPitts(threshold=int(pattern.sum()), n_inputs=pattern.size,
                              inhibitory=np.flatnonzero(pattern == 0).tolist())
        ### END SOLUTION
    """),
    test("test_pattern_detector_values", 1, f"""
    \"\"\"pattern_detector((1, 0, 1)) fires for 101 and for none of the other seven patterns.\"\"\"
    READ = "{MP}"
    unit = pattern_detector((1, 0, 1))
    check_true(isinstance(unit, McCullochPitts),
               f"pattern_detector should return an nnlib.neurons.McCullochPitts, got {{type(unit).__name__}}", read=READ)
    check_close(unit(all_inputs(3)), [0, 0, 0, 0, 0, 1, 0, 0],
                what="the detector of 101 on the patterns 000, 001, ..., 111", read=READ)
    """),
    test("test_pattern_detector_hidden", 2, f"""
    \"\"\"Hidden tests: detectors of random patterns of 1 to 7 bits, and of all-zero and all-one patterns.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{MP}"
    rng = np.random.default_rng(3004)
    patterns = [tuple(int(v) for v in rng.integers(0, 2, size=rng.integers(1, 8))) for _ in range(6)]
    patterns += [(0, 0, 0, 0), (1, 1, 1), (0,), (1,)]
    for pattern in patterns:
        n = len(pattern)
        X = all_inputs(n)
        expected = np.all(X == np.array(pattern), axis=1).astype(int)
        got = pattern_detector(pattern)(X)
        check_close(got, expected, what=f"the detector of the pattern {{''.join(map(str, pattern))}} "
                    f"on all {{2 ** n}} patterns", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: why one unit cannot compute XOR (2 points, graded by hand)

    In a few sentences: why can no single McCulloch-Pitts unit (nor any single threshold
    unit with real weights) compute $x_1 \oplus x_2$? What does the first layer of your
    `xor_mp` do that makes the problem solvable for the output unit?
    """),
    written("written_xor", 2, r"""
    A threshold unit fires on one side of a straight line in the $(x_1, x_2)$ plane: its
    firing region is a half-plane, which is convex. XOR must fire at $(0,1)$ and $(1,0)$ but
    not at $(0,0)$ and $(1,1)$; the segment between the two firing corners crosses the
    segment between the two silent ones at $(\tfrac12, \tfrac12)$, which would have to lie in
    both the firing and the (also convex) silent region. Algebraically: $A_1 + b \ge 0$,
    $A_2 + b \ge 0$ and $b < 0$ give $A_1 + A_2 + b > 0$, so the unit fires at $(1,1)$ too.
    A McCulloch-Pitts unit with an inhibitory input does no better: if $x_1$ (or $x_2$) is
    inhibitory, the unit is silent at $(1,0)$ (or $(0,1)$), where XOR must fire; with both
    excitatory it is a threshold unit with weights 1, covered above.
    The first layer maps the inputs to new coordinates $(h_1, h_2) = (\mathrm{OR}, \mathrm{AND})$
    in which the XOR is a half-plane, $h_1 - h_2 \ge 1$, so one output unit suffices.
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
