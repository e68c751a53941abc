"""Wrong and honest submissions of homework 3 (McCulloch-Pitts neurons), for tests/test_grading_scores.py."""

ASSIGNMENT = "03-mcculloch-pitts"
NOTEBOOK = "mcculloch_pitts"

MUTANTS = [
    dict(name="strict_threshold",
         why="the unit fires only above the threshold (> instead of >=)",
         replace=[("(excite >= threshold)", "(excite > threshold)")],
         fails={"test_mp_unit_values", "test_mp_unit_hidden", "test_nand_values", "test_xor_values",
                "test_xor_hidden", "test_full_adder_values", "test_full_adder_hidden"}),
    dict(name="relative_inhibition",
         why="inhibitory inputs subtracted from the sum instead of vetoing the unit",
         replace=[("return ((excite >= threshold) & ~inhibited).astype(int)",
                   "return (excite - x[:, inhibitory].sum(axis=1) >= threshold).astype(int)")],
         fails={"test_mp_unit_values", "test_mp_unit_hidden"}),
    dict(name="boolean_output",
         why="the unit returns a boolean array instead of the integer 0s and 1s the task asks for",
         replace=[("return ((excite >= threshold) & ~inhibited).astype(int)",
                   "return (excite >= threshold) & ~inhibited")],
         fails={"test_mp_unit_values"}),
    dict(name="no_input_check",
         why="inputs other than 0 and 1 accepted silently",
         replace=[("if np.any((x != 0) & (x != 1)):\n        raise ValueError(\"McCulloch-Pitts inputs must be 0 or 1\")\n    ", "")],
         fails={"test_mp_unit_rejects_non_binary"}),
    dict(name="nor_as_not_and",
         why="NOR taken as a unit with one inhibitory input, which ignores the second input",
         replace=[("NOR_UNIT = dict(threshold=0, inhibitory=[0, 1])", "NOR_UNIT = dict(threshold=0, inhibitory=[0])")],
         fails={"test_gate_parameters"}),
    dict(name="xor_output_threshold_2",
         why="the output unit of the XOR network needs both hidden units (threshold 2)",
         replace=[("return mp_unit(hidden, threshold=1, inhibitory=[1])", "return mp_unit(hidden, threshold=2, inhibitory=[1])")],
         fails={"test_xor_values", "test_xor_hidden"}),
    dict(name="carry_needs_all_three",
         why="the carry taken from the threshold-3 unit: it is missed when exactly two bits are 1",
         replace=[("return np.column_stack([s, at_least_two])", "return np.column_stack([s, all_three])")],
         fails={"test_full_adder_values", "test_full_adder_hidden"}),
    dict(name="nand_by_arithmetic",
         why="NAND computed from the inputs with NumPy instead of wired from units",
         replace=[("return mp_unit(mp_unit(x, **AND_UNIT)[:, None], **NOT_UNIT)",
                   "return 1 - (x[:, 0] & x[:, 1])")],
         fails={"test_nand_values"}),
    dict(name="nand_one_unit_and_numpy",
         why="NAND as 1 - AND: one unit, and its output inverted with NumPy instead of a NOT unit",
         replace=[("return mp_unit(mp_unit(x, **AND_UNIT)[:, None], **NOT_UNIT)",
                   "return 1 - mp_unit(x, **AND_UNIT)")],
         fails={"test_nand_values"}),
    dict(name="xor_by_bit_operator",
         why="XOR computed with the bit operator ^ instead of a network of units",
         replace=[("hidden = np.column_stack([mp_unit(x, **OR_UNIT), mp_unit(x, **AND_UNIT)])\n"
                   "    return mp_unit(hidden, threshold=1, inhibitory=[1])",
                   "return (x[:, 0] ^ x[:, 1]).astype(int)")],
         fails={"test_xor_values", "test_xor_hidden"}),
    dict(name="xor_unit_for_show",
         why="a unit called for show, the XOR itself computed with ^",
         replace=[("hidden = np.column_stack([mp_unit(x, **OR_UNIT), mp_unit(x, **AND_UNIT)])\n"
                   "    return mp_unit(hidden, threshold=1, inhibitory=[1])",
                   "mp_unit(x, threshold=0)\n    return (x[:, 0] ^ x[:, 1]).astype(int)")],
         fails={"test_xor_values", "test_xor_hidden"}),
    dict(name="adder_by_arithmetic",
         why="the full adder computed from the sum of the bits instead of a circuit of units",
         replace=[("at_least_one = mp_unit(x, threshold=1)\n    at_least_two = mp_unit(x, threshold=2)\n"
                   "    all_three = mp_unit(x, threshold=3)\n"
                   "    exactly_one = mp_unit(np.column_stack([at_least_one, at_least_two]), threshold=1, inhibitory=[1])\n"
                   "    s = mp_unit(np.column_stack([exactly_one, all_three]), threshold=1)\n"
                   "    return np.column_stack([s, at_least_two])",
                   "total = x.sum(axis=1)\n    return np.column_stack([total % 2, total // 2])")],
         fails={"test_full_adder_values", "test_full_adder_hidden"}),
    dict(name="adder_sum_by_parity",
         why="the carry from a unit, but the sum bit, the hard part, as the parity of the bits",
         replace=[("exactly_one = mp_unit(np.column_stack([at_least_one, at_least_two]), threshold=1, inhibitory=[1])\n"
                   "    s = mp_unit(np.column_stack([exactly_one, all_three]), threshold=1)\n"
                   "    return np.column_stack([s, at_least_two])",
                   "return np.column_stack([x.sum(axis=1) % 2, at_least_two])")],
         fails={"test_full_adder_values", "test_full_adder_hidden"}),
    dict(name="detector_threshold_n",
         why="the detector's threshold set to the number of inputs instead of the number of ones in the pattern",
         replace=[("threshold=int(pattern.sum())", "threshold=int(pattern.size)")],
         fails={"test_pattern_detector_values", "test_pattern_detector_hidden"}),
]

HONEST = [
    dict(name="units_by_other_names",
         why="units reached through an alias, a helper and functools.partial, as a student may write them",
         replace=[("return mp_unit(mp_unit(x, **AND_UNIT)[:, None], **NOT_UNIT)",
                   "unit = mp_unit\n    return unit(unit(x, **AND_UNIT)[:, None], **NOT_UNIT)"),
                  ("hidden = np.column_stack([mp_unit(x, **OR_UNIT), mp_unit(x, **AND_UNIT)])\n"
                   "    return mp_unit(hidden, threshold=1, inhibitory=[1])",
                   "import functools\n"
                   "    layer = [functools.partial(mp_unit, **OR_UNIT), functools.partial(mp_unit, **AND_UNIT)]\n"
                   "    hidden = np.column_stack([u(x) for u in layer])\n"
                   "    return output_unit(hidden)\n\n\n"
                   "def output_unit(h):\n    return mp_unit(h, threshold=1, inhibitory=[1])")]),
    dict(name="loops",
         why="the unit as a loop over the rows, with Python sets",
         replace=[("inhibitory = list(inhibitory)\n    excitatory = [j for j in range(x.shape[1]) if j not in inhibitory]\n"
                   "    excite = x[:, excitatory].sum(axis=1)\n    inhibited = x[:, inhibitory].sum(axis=1) > 0\n"
                   "    return ((excite >= threshold) & ~inhibited).astype(int)",
                   "inh = set(int(k) for k in inhibitory)\n    out = []\n    for row in x:\n"
                   "        if any(row[k] == 1 for k in inh):\n            out.append(0)\n        else:\n"
                   "            total = sum(int(row[j]) for j in range(len(row)) if j not in inh)\n"
                   "            out.append(1 if total >= threshold else 0)\n    return np.array(out, dtype=int)")]),
    dict(name="other_wiring",
         why="XOR wired as AND(OR, NAND), and the detector's inhibitory inputs from a list comprehension",
         replace=[("hidden = np.column_stack([mp_unit(x, **OR_UNIT), mp_unit(x, **AND_UNIT)])\n"
                   "    return mp_unit(hidden, threshold=1, inhibitory=[1])",
                   "hidden = np.column_stack([mp_unit(x, **OR_UNIT), nand(x)])\n    return mp_unit(hidden, **AND_UNIT)"),
                  ("inhibitory=np.flatnonzero(pattern == 0).tolist())",
                   "inhibitory=[j for j, bit in enumerate(pattern) if bit == 0])")]),
    dict(name="adder_row_by_row",
         why="the full adder's carry on the whole batch, its sum bit from units run one sample at a time "
             "(outputs that check_circuit cannot follow)",
         replace=[("at_least_one = mp_unit(x, threshold=1)\n    at_least_two = mp_unit(x, threshold=2)\n"
                   "    all_three = mp_unit(x, threshold=3)\n"
                   "    exactly_one = mp_unit(np.column_stack([at_least_one, at_least_two]), threshold=1, inhibitory=[1])\n"
                   "    s = mp_unit(np.column_stack([exactly_one, all_three]), threshold=1)\n"
                   "    return np.column_stack([s, at_least_two])",
                   "carry = mp_unit(x, threshold=2)\n    sums = []\n    for row in x:\n        r = row[None, :]\n"
                   "        one = mp_unit(np.column_stack([mp_unit(r, threshold=1), mp_unit(r, threshold=2)]),"
                   " threshold=1, inhibitory=[1])\n"
                   "        sums.append(mp_unit(np.column_stack([one, mp_unit(r, threshold=3)]), threshold=1)[0])\n"
                   "    return np.column_stack([np.array(sums), carry])")]),
]
