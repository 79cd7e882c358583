"""``synergy_lab.report.tables``: metrics over seeds, the PID tables, pairwise comparisons."""

import pytest

from synergy_lab.report import (
    accuracy_table,
    ground_truth_table,
    markdown_summary,
    metric_table,
    pairwise_table,
    pairwise_tables,
    synergy_table,
)


def test_accuracy_table_mean_and_std(results_frame):
    frame = results_frame(methods=("comm",), seeds=(0, 1), labels=("S",))
    frame["probe_accuracy"] = [0.5, 0.7]
    frame["train_seconds"] = [10.0, 20.0]
    table = accuracy_table(frame)
    assert table.loc["comm", "S"] == "0.600 ± 0.141"
    assert table.loc["comm", "seeds"] == 2
    assert table.loc["comm", "train s"] == "15.0"


def test_synergy_table_shows_the_raw_soft_pid_with_its_test_and_truth_once(results_frame):
    frame = results_frame(methods=("clip", "comm"), seeds=(0,), labels=("S",))
    frame["pid_soft_synergy"] = [0.25, 0.5]
    frame["pid_soft_synergy_corrected"] = [-0.3, 0.1]  # legacy raw - null mean: never shown
    frame["pid_soft_synergy_p"] = [0.5, 1 / 21]
    frame["gt_synergy"] = [1.0, 1.0]
    table = synergy_table(frame).set_index("method")
    assert table.loc["clip", "synergy"] == "0.250 [0/1]"
    assert table.loc["comm", "synergy"] == "0.500 [1/1]"
    assert "true synergy" not in table.columns
    truth = ground_truth_table(frame)
    assert len(truth) == 1 and truth.iloc[0]["synergy"] == "1.000"


def test_metric_table_shows_sd_and_t_interval_of_the_mean(results_frame):
    frame = results_frame(methods=("comm",), seeds=(0, 1, 2), labels=("S",))
    frame["usable_bits"] = [0.2, 0.4, 0.6]
    # mean 0.4, sd 0.2, half-width t(0.975, 2) * 0.2 / sqrt(3) = 4.303 * 0.11547 = 0.497
    assert metric_table(frame, "usable_bits").loc["comm", "S"] == "0.400 ± 0.200 [-0.097, 0.897]"


def test_pairwise_table_pairs_by_seed(results_frame):
    frame = results_frame(methods=("a", "b"), seeds=(0, 1, 2), labels=("S",))
    # b = a - 0.1 + tiny seed noise: the paired difference is 0.1 +- small, excludes 0
    frame["probe_accuracy"] = [0.5, 0.9, 0.7, 0.41, 0.79, 0.6]
    row = pairwise_table(frame, "S").iloc[0]
    assert (row["A"], row["B"], row["seeds"]) == ("a", "b", 3)
    assert row["mean diff (A - B)"] == "+0.100"
    assert row["excludes 0"] == "yes"
    # unpaired, the spread across seeds (0.5 to 0.9) would swamp the difference
    frame["probe_accuracy"] = [0.5, 0.9, 0.7, 0.9, 0.5, 0.6]
    assert pairwise_table(frame, "S").iloc[0]["excludes 0"] == "no"
    with pytest.raises(ValueError, match="label 'X'"):
        pairwise_table(frame, "X")


def test_summary_states_test_size_seeds_and_heading(results_frame):
    frame = results_frame(methods=("clip", "comm"), seeds=(0, 1, 2))
    frame["n_test"] = 1500
    text = markdown_summary(frame)
    assert text.startswith("# xor: clip, comm")
    assert "n = 1500 test samples per cell; 3 seed(s)" in text
    assert "## Pairwise comparisons" in text and "### S: accuracy" in text
    assert "reference" in text


def test_markdown_lists_methods_in_run_order(results_frame):
    text = markdown_summary(results_frame(methods=("random", "infmasking", "supervised")))
    assert text.index("| random") < text.index("| infmasking") < text.index("| supervised")


def test_accuracy_intervals_in_tables_stay_within_zero_and_one(results_frame):
    frame = results_frame(methods=("comm",), seeds=(0, 1, 2), labels=("S",))
    frame["probe_accuracy"] = [1.0, 0.9, 1.0]  # t-interval of the mean reaches past 1
    frame["usable_bits"] = [1.0, 0.6, 1.0]
    from synergy_lab.report import metric_table

    accuracy = metric_table(frame, "probe_accuracy").loc["comm", "S"]
    assert accuracy.endswith(", 1.000]"), accuracy
    bits = metric_table(frame, "usable_bits").loc["comm", "S"]
    assert float(bits.split(", ")[-1].rstrip("]")) > 1.0, bits  # bits are not clipped


def test_pairwise_with_zero_spread_says_not_estimable(results_frame):
    frame = results_frame(methods=("a", "b"), seeds=(0, 1), labels=("S",))
    frame["probe_accuracy"] = [0.9, 0.8, 0.873, 0.773]  # a - b = +0.027 on both seeds
    row = pairwise_table(frame, "S").iloc[0]
    assert row["mean diff (A - B)"] == "+0.027"
    assert row["Holm interval"] == "—" and row["p (Holm)"] == "—"
    assert row["excludes 0"] == "spread 0 over 2 seeds: not estimable"
    frame["probe_accuracy"] = [0.9, 0.8, 0.9, 0.8]  # identical methods
    row = pairwise_table(frame, "S").iloc[0]
    assert row["excludes 0"] == "spread 0 over 2 seeds: not estimable"


def _one_bit_labels(results_frame, chance: float):
    frame = results_frame(methods=("comm",), seeds=(0, 1), labels=("S",))
    frame[["gt_redundancy", "gt_unique1", "gt_unique2", "gt_synergy"]] = [0.0, 0.0, 0.0, 1.0]
    frame["chance_accuracy"] = chance
    frame["usable_bits"] = [0.4, 0.6]
    frame["captured"] = frame["usable_bits"] / 1.0
    return frame


def test_captured_fraction_only_where_it_differs_from_usable_bits(results_frame):
    # I(X1, X2; Y) = H(Y) = 1 bit (balanced binary label): captured would repeat usable bits
    text = markdown_summary(_one_bit_labels(results_frame, 0.5))
    assert "## Usable information (bits)" in text and "Captured fraction:" not in text
    # a balanced 4-class label (H(Y) = 2 bits) of which (X1, X2) tell 1 bit: shown
    assert "Captured fraction:" in markdown_summary(_one_bit_labels(results_frame, 0.25))


def test_summary_names_the_probe_used(results_frame):
    frame = results_frame(methods=("comm",), seeds=(0,), labels=("S",))
    assert "## Linear-probe test accuracy" in markdown_summary(frame)
    text = markdown_summary(frame, probe="mlp")
    assert "## MLP-probe test accuracy" in text and "Linear-probe" not in text


def _with_reference(results_frame, accuracies: list[float]):
    frame = results_frame(
        methods=("comm", "clip", "supervised"), seeds=(0, 1, 2), labels=("R", "S")
    )
    frame["chance_accuracy"] = 0.5
    frame.loc[frame.method == "supervised", "trained_on"] = "S"
    reference = (frame.method == "supervised") & (frame.label == "S")
    frame.loc[reference, "probe_accuracy"] = accuracies
    return frame


def test_a_reference_at_chance_suppresses_the_ranking_of_its_label(results_frame):
    at_chance = markdown_summary(_with_reference(results_frame, [0.49, 0.52, 0.50]))
    assert "**S is not learned at this budget**" in at_chance
    assert "### S: accuracy" not in at_chance and "### R: accuracy" in at_chance
    learned = markdown_summary(_with_reference(results_frame, [0.97, 0.99, 0.98]))
    assert "not learned" not in learned and "### S: accuracy" in learned
    # 3 methods -> 3 pairs per label, 2 labels: one family of 6 per metric
    assert "every pair x label of this metric (6 comparisons)" in learned


def test_few_seeds_are_said_plainly_and_capped_training_is_flagged(results_frame):
    frame = results_frame(methods=("comm", "clip"), seeds=(0, 1), labels=("S",))
    frame.loc[frame.method == "comm", "stop_reason"] = "cap"
    text = markdown_summary(frame)
    assert "With 2 seed(s) a difference of a few points cannot be detected" in text
    assert "Still learning at the cap: comm" in text
    assert "| comm | 2 | 100 (100-100) | cap 2 |" in text


def test_label_entropy_reads_the_recorded_column_first(results_frame):
    from synergy_lab.report.tables import label_entropy

    frame = results_frame(methods=("comm",), seeds=(0, 1), labels=("R", "S"))
    frame["chance_accuracy"] = 0.5  # the fallback: max(-log2 0.5, I = 0.5 bits) = 1 bit
    for part in ("redundancy", "unique1", "unique2", "synergy"):
        frame[f"gt_{part}"] = 0.125
    assert label_entropy(frame)["S"] == pytest.approx(1.0)
    frame["label_entropy"] = 1.58
    assert label_entropy(frame)["S"] == pytest.approx(1.58)


def test_pairwise_tables_take_a_family_of_named_pairs(results_frame):
    frame = results_frame(methods=("default", "variant", "comm"), seeds=(0, 1, 2), labels=("S",))
    pairs = [("variant", "default"), ("variant", "comm"), ("default", "comm")]
    tables, family = pairwise_tables(frame, ["S"], pairs=pairs)
    assert family == 3
    assert list(zip(tables["S"]["A"], tables["S"]["B"], strict=True)) == pairs
    # the family narrowed to one pair: no Holm correction left, so its p is the raw paired t's
    one, size = pairwise_tables(frame, ["S"], pairs=pairs[:1])
    assert size == 1
    three = float(tables["S"].iloc[0]["p (Holm)"])
    assert float(one["S"].iloc[0]["p (Holm)"]) <= three
    with pytest.raises(ValueError, match="'other' is not in the results"):
        pairwise_tables(frame, ["S"], pairs=[("other", "comm")])
    with pytest.raises(ValueError, match="named twice"):
        pairwise_tables(frame, ["S"], pairs=[pairs[0], pairs[0]])
