"""The training-command check, rule by rule, with exact outputs.

Written against the survivors of ``scripts/mutation command-check``: each
test pins one rule (which option is flagged, the exact paragraph) on a
descriptor built by hand, so the tests stay fast and say what they check.
"""

from __future__ import annotations

import pytest

from keynet_train.extraction import Argument, ExtractionResult
from keynet_train.extraction.command_check import (
    CommandProblem,
    RejectedOption,
    _accepted,
    rejected_options,
    subcommand_problems,
    value_problems,
)

LR = Argument("learning_rate", "float", 0.1, flags=("--learning-rate",))
FLIP = Argument(
    "flip", "bool", True, flags=("--flip",), kind="negatable", negative_flags=("--no-flip",)
)
AMP = Argument("amp", "bool", False, flags=("--amp",), kind="flag", flag_value=True)
EPOCHS = Argument("epochs", "int", 3, flags=("--epochs",))


def _rejected(kind: str, command: str, *arguments: Argument) -> list[str]:
    found = rejected_options(f"python train.py {command}", ExtractionResult(kind, list(arguments)))
    return [r.option for r in found]


def _values(kind: str, command: str, *arguments: Argument) -> list[tuple[str, str, str]]:
    found = value_problems(f"python train.py {command}", ExtractionResult(kind, list(arguments)))
    return [(p.kind, p.option, p.accepted) for p in found]


# ---------------------------------------------------------------- RejectedOption.message


def test_globals_two_words_message_exact() -> None:
    arg = Argument("dropout", "float", 0.1, flags=("--dropout",))
    assert RejectedOption("--dropout", arg, "globals").message("train.py") == (
        "The platform's training command passes --dropout and its value as two words, "
        "but train.py reads its options with a configurator that takes only "
        "--dropout=VALUE, so the training job would stop with an error. The command "
        "must spell it --dropout=VALUE; fix it on the platform, then push again."
    )


@pytest.mark.parametrize(
    ("family", "how"),
    [
        (
            "globals",
            "The configurator reads only --key=VALUE, so write --drop-out=VALUE "
            "(no space, one word)",
        ),
        (
            "fire",
            "fire accepts --drop-out=VALUE or --drop-out VALUE for that parameter; "
            "use that spelling",
        ),
        ("tyro", "tyro accepts --drop-out VALUE for that field; use that spelling"),
        (
            "hfargparser",
            "HfArgumentParser spells a field --name and --name-with-dashes, and adds --no_name "
            "only for a bool field that defaults to True; add --drop_out to the field's "
            'metadata={"aliases": [...]} or pass the value as --drop-out VALUE',
        ),
    ],
)
def test_family_fix_messages_exact(family: str, how: str) -> None:
    arg = Argument("drop_out", "float", 0.1, flags=("--drop-out", "-d"))
    assert RejectedOption("--drop_out", arg, family).message("t.py") == (
        "The platform's training command passes --drop_out, but t.py declares 'drop_out' "
        f"as --drop-out, -d, so the training job would stop with a usage error. {how}, "
        "then push again."
    )


@pytest.mark.parametrize(
    ("family", "fix"),
    [
        ("argparse", "add_argument('--fp_16', action=argparse.BooleanOptionalAction)"),
        ("click", "@click.option('--fp_16/--no-fp_16')"),
        ("typer", "a bool parameter, which typer spells --fp_16/--no-fp_16"),
    ],
)
def test_bool_fix_messages_exact(family: str, fix: str) -> None:
    arg = Argument("fp_16", "bool", False, flags=("--fp-16",), negative_flags=("--no-fp-16",))
    assert RejectedOption("--fp_16", arg, family).message("t.py") == (
        "The platform's training command passes --fp_16, but t.py declares 'fp_16' as "
        "--fp-16, --no-fp-16, so the training job would stop with a usage error. Declare "
        f"it as an on/off pair that accepts --fp_16 ({fix}), then push again."
    )


@pytest.mark.parametrize(
    ("family", "fix"),
    [
        ("argparse", "add_argument('--learning-rate', '--learning_rate', ...)"),
        ("click", "@click.option('--learning-rate', '--learning_rate', ...)"),
        ("typer", "typer.Option('--learning-rate', '--learning_rate')"),
    ],
)
def test_alias_fix_messages_exact(family: str, fix: str) -> None:
    assert RejectedOption("--learning_rate", LR, family).message("t.py") == (
        "The platform's training command passes --learning_rate, but t.py declares "
        "'learning_rate' as --learning-rate, so the training job would stop with a usage "
        f"error. Add --learning_rate as another option string of that argument ({fix}), "
        "then push again."
    )


# ---------------------------------------------------------------- CommandProblem.message


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("flag_value", "but 'amp' is a flag that takes no value"),
        ("list_literal", "but 'amp' takes its values as separate words, not a list literal"),
        (
            "negative_value",
            "but argparse reads a value starting with '-' after 'amp''s option as another option",
        ),
    ],
)
def test_problem_messages_exact(kind: str, what: str) -> None:
    problem = CommandProblem(kind, "--amp X", AMP, "argparse", "ACCEPTED")
    assert problem.message("t.py") == (
        f"The platform's training command passes --amp X, {what}, so the training job would "
        "stop with a usage error. The script accepts: ACCEPTED. Fix the hyperparameter "
        "definition (or the script's declaration), then push again."
    )


# ---------------------------------------------------------------- rejected_options rules


def test_rejected_only_known_names_and_words_before_double_dash() -> None:
    command = "--learning_rate 1 --lr 2 value --learning_rate=3=4 -- --learning_rate"
    assert _rejected("argparse", command, LR) == ["--learning_rate", "--learning_rate"]


def test_rejected_skips_negative_numbers() -> None:
    # A negative number is a value, even if an argument happens to be named like it.
    one = Argument("1", "int", 0, flags=("--one",))
    assert _rejected("argparse", "-1 -1.5", one) == []
    assert _rejected("argparse", "--1", one) == ["--1"]


def test_rejected_no_unsplittable_or_no_script() -> None:
    result = ExtractionResult("argparse", [LR])
    assert rejected_options("python train.py --learning_rate 'x", result) == []
    assert rejected_options("python -m train --learning_rate 1", result) == []
    assert rejected_options("python train.sh x.py --learning_rate 1", result) != []
    # The first .py word is the script: b.py is its first argument.
    assert len(rejected_options("python a.py b.py --learning_rate 1", result)) == 1
    assert value_problems("python train.py --amp 'x", ExtractionResult("argparse", [AMP])) == []
    assert value_problems("python -m train --amp 1", ExtractionResult("argparse", [AMP])) == []
    assert value_problems("python train.py --amp 1", ExtractionResult(None, [AMP])) == []


def test_rejected_negative_spellings_for_bools_only() -> None:
    pretrained = Argument("pretrained", "bool", False, flags=("--pretrained",))
    nodes = Argument("nodes", "int", 1, flags=("--num-nodes",))
    count = Argument("des", "int", 1, flags=("--d",))
    command = "--no_pretrained --no-pretrained --nopretrained --no_des --nodes 1"
    assert _rejected("argparse", command, pretrained, nodes, count) == [
        "--no_pretrained",
        "--no-pretrained",
        "--nopretrained",
        "--nodes",
    ]


def test_rejected_globals_needs_equals() -> None:
    dropout = Argument("dropout", "float", 0.1, flags=("--dropout",))
    assert _rejected("globals", "--dropout=0.2 --dropout 0.2 --drop_out=1", dropout) == [
        "--dropout",
    ]


def test_rejected_argparse_prefixes() -> None:
    warm = Argument("warm", "int", 1, flags=("--warm-a",))
    warm_b = Argument("warm_b", "int", 1, flags=("--warm-b",))
    short = Argument("w", "int", 1, flags=("-wx",))
    # '--warm' is ambiguous; '--warm-' too; '--warm-a' prefix of itself only.
    assert _rejected("argparse", "--warm 1 --warm_b 2 --warm-b 3", warm, warm_b) == [
        "--warm",
        "--warm_b",
    ]
    assert _rejected("hfargparser", "--warm 1", warm) == []
    assert _rejected("click", "--warm 1", warm) == ["--warm"]
    assert _rejected("argparse", "-w 1", short) == ["-w"]


def test_rejected_fire_and_tyro_spellings() -> None:
    lr = Argument("lr", "float", 0.1, flags=("--lr",))
    fp = Argument("fp", "bool", False, flags=("--fp",))
    seed = Argument("seed", "int", 0, flags=("--seed",))
    assert _rejected("fire", "---lr 1 --nofp --no_fp -seed 1 --noseed", lr, fp, seed) == ["--no_fp"]
    exp = Argument("exp_name", "str", "a", flags=("--exp-name",))
    assert _rejected("tyro", "--exp_name a --exp-name b", exp) == []
    assert _rejected("tyro", "-exp_name a", exp) == ["-exp_name"]
    assert _rejected("click", "--exp_name a", exp) == ["--exp_name"]
    assert _rejected("fire", "--exp_nam a", exp) == []  # unknown name: not judged


# ---------------------------------------------------------------- value_problems rules


def test_flag_values_exact() -> None:
    verbose = Argument("verbose", "int", 0, flags=("-v",), kind="count")
    assert _values("argparse", "--amp=yes --flip False -v 2 -v x --amp", AMP, FLIP, verbose) == [
        ("flag_value", "--amp=yes", "--amp (sets True) or nothing (leaves False)"),
        ("flag_value", "--flip False", "--flip (true) or --no-flip (false)"),
        ("flag_value", "-v 2", "-v repeated N times"),
    ]
    # Families whose bools take values are not judged.
    assert _values("hfargparser", "--amp True", AMP) == []
    assert _values("fire", "--amp=True", AMP) == []
    # A flag at the end, or followed by another option, is fine.
    assert _values("click", "--amp --flip", AMP, FLIP) == []


def test_flag_value_may_be_a_positional() -> None:
    data = Argument("data", "str", None, kind="positional")
    two = Argument("pair", "str", None, kind="positional", nargs=2)
    many = Argument("rest", "str", None, kind="positional", nargs="*")
    some = Argument("more", "str", None, kind="positional", nargs="+")
    assert _values("argparse", "--amp true", AMP, data) == []
    assert [p[1] for p in _values("argparse", "x --amp true", AMP, data)] == ["--amp true"]
    assert _values("argparse", "x --amp true", AMP, two) == []
    assert [p[1] for p in _values("argparse", "x y --amp true", AMP, two)] == ["--amp true"]
    assert _values("argparse", "x y --amp true", AMP, many) == []
    assert _values("argparse", "x y --amp true", AMP, some) == []
    # A definite problem (=value) stays even when positionals could take words.
    assert [p[1] for p in _values("argparse", "--amp=1 --amp 1", AMP, many)] == ["--amp=1"]
    assert [p[1] for p in _values("argparse", "--amp=1", AMP)] == ["--amp=1"]


def test_free_words_counted() -> None:
    data = Argument("data", "str", None, kind="positional")
    # '-', numbers and plain words count as free words; the sub-command name does not.
    for words in ("- --amp 1", "-3 --amp 1", "1.5 --amp 1", "x --amp 1"):
        assert len(_values("argparse", words, AMP, data)) == 1, words
    result = ExtractionResult("argparse", [AMP, data], command="train")
    assert value_problems("python train.py train --amp 1", result) == []


def test_list_literals_exact() -> None:
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    repeat = Argument("gpu", "int", None, flags=("--gpu",), kind="list", list_style="repeat")
    literal = Argument("ls", "int", None, flags=("--ls",), kind="list", list_style="literal")
    value = Argument("name", "str", "a", flags=("--name",))
    args = (space, repeat, literal, value)
    command = "--ms [30, 60] --gpu=(0,1) --ls [1, 2] --ls=[3] --name [a, b] --name [] --ms=1"
    assert _values("argparse", command, *args) == [
        ("list_literal", "--ms [30, 60]", "--ms V1 V2 ... (separate words)"),
        ("list_literal", "--gpu=(0,1)", "--gpu V1 --gpu V2 ... (the option once per value)"),
        ("list_literal", "--name [a, b]", "--name VALUE (or --name=VALUE)"),
    ]
    # An unclosed literal runs to the end of the command.
    assert _values("argparse", "--ms [1, 2", *args) == [
        ("list_literal", "--ms [1, 2", "--ms V1 V2 ... (separate words)")
    ]
    assert _values("argparse", "--name ()", *args) == []
    assert _values("argparse", "--name (ab)", *args) == [
        ("list_literal", "--name (ab)", "--name VALUE (or --name=VALUE)")
    ]
    assert _values("argparse", "--name [ab", *args) == []
    assert _values("argparse", "--name=[1]", *args) == []
    assert _values("argparse", "--ms=[1] --ms=1,2", *args) == [
        ("list_literal", "--ms=[1]", "--ms V1 V2 ... (separate words)")
    ]


def test_space_list_consumes_its_words() -> None:
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    fixed = Argument("xy", "int", None, flags=("--xy",), kind="list", list_style="space", nargs=2)
    # The words after --ms are its values, so 'true' is not counted as a free word.
    data = Argument("data", "str", None, kind="positional")
    assert _values("argparse", "--ms 1 2 --amp true", space, AMP, data) == []
    assert [p[1] for p in _values("argparse", "--xy 1 2 --amp true", fixed, AMP, data)] == [
        "--amp true"
    ]
    assert _values("argparse", "--ms 1 [2, 3]", space) == []


def test_negative_values_exact() -> None:
    shift = Argument("shift", "float", 0.0, flags=("--shift", "-s"))
    assert _values("argparse", "--shift -1e-05 --shift -1 --shift=-1e-05 -s -.5", shift) == [
        ("negative_value", "--shift -1e-05", "--shift=-1e-05"),
    ]
    assert _values("hfargparser", "--shift -1e5", shift) == [
        ("negative_value", "--shift -1e5", "--shift=-1e5")
    ]
    assert _values("click", "--shift -1e5", shift) == []
    # With an option that looks like a negative number, even -1 is read as an option.
    minus = Argument("m", "bool", False, flags=("-1",), kind="flag", flag_value=True)
    assert _values("argparse", "--shift -1 --shift 5", shift, minus) == [
        ("negative_value", "--shift -1", "--shift=-1"),
    ]
    assert _values("argparse", "--shift -x", shift) == []
    noflags = Argument("shift", "float", 0.0)
    assert (
        value_problems("python train.py --shift -1e5", ExtractionResult("argparse", [noflags]))
        == []
    )


def test_argument_lookup_by_prefix_and_name() -> None:
    warm = Argument("warm", "int", 1, flags=("--warm-a",), kind="list", list_style="space")
    assert _values("argparse", "--warm [1, 2]", warm) == [
        ("list_literal", "--warm [1, 2]", "--warm-a V1 V2 ... (separate words)")
    ]
    assert _values("click", "--warm [1, 2]", warm) == [
        ("list_literal", "--warm [1, 2]", "--warm-a V1 V2 ... (separate words)")
    ]
    other = Argument("warm_b", "int", 1, flags=("--warm-b",))
    assert _values("argparse", "--warm [1, 2]", warm, other) == [
        ("list_literal", "--warm [1, 2]", "--warm-a V1 V2 ... (separate words)")
    ]
    assert _values("argparse", "--war [1, 2]", warm, other) == []
    pre = Argument("pre", "bool", False, flags=("--pre",), kind="flag", flag_value=True)
    size = Argument("size", "int", 1, flags=("--size",))
    assert _values("click", "--no_pre 1 --no-size 1 --no_flip 1", pre, size, FLIP) == [
        ("flag_value", "--no_pre 1", "--pre (sets True) or nothing (leaves False)"),
        ("flag_value", "--no_flip 1", "--flip (true) or --no-flip (false)"),
    ]


def test_accepted_spellings_exact() -> None:
    flag = Argument("opt", "str", None, kind="flag", flag_value="x")
    short = Argument("n", "int", 1, flags=("-n",))
    neg = Argument("on", "bool", True, flags=("--on",), kind="negatable")
    # An argument without option strings is never matched in a command.
    assert _accepted(flag) == "<opt> (sets 'x') or nothing (leaves None)"
    assert _values("argparse", "--on=1 -n [1, 2]", flag, neg, short) == [
        ("flag_value", "--on=1", "--on (true) or nothing (false)"),
        ("list_literal", "-n [1, 2]", "-n VALUE"),
    ]
    listed = Argument("ls", "int", None, flags=("--ls",), kind="list", list_style="literal")
    assert _values("argparse", "--amp=1", AMP, listed) != []


# ---------------------------------------------------------------- subcommand_problems


def test_subcommand_messages_exact() -> None:
    result = ExtractionResult(
        "argparse",
        [
            Argument("seed", "int", 0, flags=("--seed",), scope="global"),
            Argument("lr", "float", 0.1, flags=("--lr",)),
        ],
        command="train",
    )
    command = "python train.py --lr=1 train --seed=2 --lr 3 -- --seed 4"
    assert subcommand_problems(command, result, "t.py") == [
        "The platform's training command passes --lr before the sub-command 'train', but "
        "t.py declares it on the sub-command, which only accepts it after its name; the "
        "training job would stop with a usage error. Declare it on the parent parser too, "
        "then push again.",
        "The platform's training command passes --seed after the sub-command 'train', but "
        "t.py declares it on the parent parser, which only accepts it before the sub-command; "
        "the training job would stop with a usage error. Declare it on the sub-command too, "
        "then push again.",
    ]
    assert subcommand_problems("python train.py --seed 1 train --lr 2", result, "t.py") == []
    assert subcommand_problems("python train.py 'x", result, "t.py") == []
    assert subcommand_problems("python -m train --lr 1", result, "t.py") == []
    assert (
        subcommand_problems(
            "python train.py --lr 1", ExtractionResult(None, result.arguments, command="x"), "t.py"
        )
        == []
    )
    assert (
        subcommand_problems(
            "python train.py --lr 1", ExtractionResult("argparse", result.arguments), "t.py"
        )
        == []
    )
    assert subcommand_problems("python train.py --seed 1", result, "t.py") == [
        "The platform's training command runs t.py without its sub-command 'train', so the "
        "training job would stop with a usage error. Push an entry script that runs 'train' "
        "directly (or make it the script's default), or ask the platform to put the "
        "sub-command in the command, then push again."
    ]


def test_value_rules_more() -> None:
    shift = Argument("shift", "float", 0.0, flags=("--shift",))
    warm = Argument("warm", "int", 1, flags=("--warm-a",), kind="list", list_style="space")
    name = Argument("name", "str", "a", flags=("--name",))
    data = Argument("data", "str", None, kind="positional")
    # Nothing after '--' is judged.
    assert _values("argparse", "-- --amp 1 --shift -1e5", AMP, shift) == []
    # A unique prefix finds the argument even when its name does not match.
    assert _values("argparse", "--war [1, 2]", warm) == [
        ("list_literal", "--war [1, 2]", "--warm-a V1 V2 ... (separate words)")
    ]
    # --no_x is only for bools: a float's negative spelling is not judged.
    assert _values("argparse", "--no_shift -1e5 --no-shift -1e5", shift) == []
    # The negative value is consumed: it is not a free word for the positionals.
    assert _values("argparse", "--shift -1e5 --amp true", shift, AMP, data) == [
        ("negative_value", "--shift -1e5", "--shift=-1e5")
    ]
    # Three characters in brackets are a list literal; two are not.
    assert _values("argparse", "--name [x] --name []", name) == [
        ("list_literal", "--name [x]", "--name VALUE (or --name=VALUE)")
    ]


def test_value_rules_positions() -> None:
    warm = Argument("warm", "int", 1, flags=("--warm-a",), kind="list", list_style="space")
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    repeat = Argument("gpu", "int", None, flags=("--gpu",), kind="list", list_style="repeat")
    data = Argument("data", "str", None, kind="positional")
    # click takes no prefixes: '--war' is nobody's option.
    assert _values("click", "--war [1, 2]", warm) == []
    # A flag is not a count: '--amp 2' leaves 2 to the positionals.
    assert _values("argparse", "--amp 2", AMP) == []
    # Words after the sub-command name are still judged.
    result = ExtractionResult("argparse", [AMP], command="train")
    assert [p.option for p in value_problems("python t.py train --amp=1", result)] == ["--amp=1"]
    # The whole literal is consumed, so '60]' is not a free word for the positionals.
    assert _values("argparse", "--ms [30, 60] --amp true", space, AMP, data) == [
        ("list_literal", "--ms [30, 60]", "--ms V1 V2 ... (separate words)")
    ]
    # A repeated option takes one word: '1' is a free word, so '--amp true' is judged.
    assert [p[1] for p in _values("argparse", "--gpu 0 1 --amp true", repeat, AMP, data)] == [
        "--amp true"
    ]


def test_value_rules_edges() -> None:
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    verbose = Argument("verbose", "int", 0, flags=("-v",), kind="count")
    shift = Argument("shift", "float", 0.0, flags=("--shift",))
    # Every word of a space-separated list is consumed, and no more.
    assert [p[1] for p in _values("argparse", "--ms 1 2 3 --amp true", space, AMP)] == [
        "--amp true"
    ]
    # A value option at the end of the command has no value to judge.
    assert _values("argparse", "--amp=1 --shift", AMP, shift) == [
        ("flag_value", "--amp=1", "--amp (sets True) or nothing (leaves False)")
    ]
    # A count is not a bool: --no_verbose is nobody's option.
    assert _values("argparse", "--no_verbose 2", verbose) == []
    # fire's negative spelling is exactly 'no' + the name ('no_Fp' sorts after 'noFp').
    big = Argument("Fp", "bool", False, flags=("--Fp",))
    assert _rejected("fire", "--noFp --no_Fp", big) == ["--no_Fp"]


# ---------------------------------------------------------------- full-run survivors


def test_globals_two_words_when_the_command_spells_the_flag_itself() -> None:
    # The option comes from splitting the command: equal to the declared flag,
    # never the same object, so the rule must compare by value.
    dropout = Argument("dropout", "float", 0.1, flags=("--dropout",))
    result = ExtractionResult("globals", [dropout])
    [found] = rejected_options("python train.py --dropout 0.2", result)
    assert found.option == "--dropout" and found.option is not dropout.flags[0]
    assert "and its value as two words" in found.message("train.py")


def test_an_unknown_option_does_not_end_the_check() -> None:
    assert _rejected("argparse", "--other 1 --learning_rate 0.1", LR) == ["--learning_rate"]
    assert _rejected("argparse", "--no_other --learning_rate 0.1", LR) == ["--learning_rate"]


def test_a_negative_spelling_of_an_unknown_name_is_ignored() -> None:
    # "--no_such" names no argument: nothing to judge, and nothing raised.
    assert _values("argparse", "--no_such 1 --amp", AMP, LR) == []
    assert _values("click", "--no-such", AMP) == []


def test_tyro_spellings_compare_whole_names() -> None:
    # Only --optim.lr (or --optim_lr's dashed twin) is accepted; "--lr" sorts
    # before "optim.lr" but is not the same name.
    nested = Argument("lr", "float", 0.1, flags=("--optim.lr",))
    assert _rejected("tyro", "--lr 0.1", nested) == ["--lr"]
    assert _rejected("tyro", "--optim.lr 0.1", nested) == []


def test_a_value_after_an_option_is_not_counted_as_a_free_word() -> None:
    # "0.1" belongs to --learning-rate; the one positional can still take
    # "true", so "--amp true" is not judged. The option at an odd position
    # (after "x") checks the next index is i + 1, not i | 1.
    data = Argument("data", "str", None, kind="positional")
    assert _values("argparse", "--learning-rate 0.1 --amp true", LR, AMP, data) == []
    two = Argument("pair", "str", None, kind="positional", nargs=2)
    assert _values("argparse", "x --learning-rate 0.1 --amp true", LR, AMP, two) == []


def test_fewer_pending_words_than_positionals_is_not_judged() -> None:
    two = Argument("pair", "str", None, kind="positional", nargs=2)
    assert _values("argparse", "--amp true", AMP, two) == []
    three = [Argument(f"p{i}", "str", None, kind="positional") for i in range(3)]
    assert _values("argparse", "--amp true", AMP, *three) == []


def test_accepted_names_the_first_option_string() -> None:
    amp = Argument("amp", "bool", False, flags=("--amp", "-a"), kind="flag", flag_value=True)
    assert _accepted(amp) == "--amp (sets True) or nothing (leaves False)"


def test_negative_value_fix_names_the_declared_flag_not_the_spelling_used() -> None:
    assert _values("argparse", "--learning_rate -1e-05", LR) == [
        ("negative_value", "--learning_rate -1e-05", "--learning-rate=-1e-05")
    ]


@pytest.mark.parametrize(
    "tail",
    ["--amp", "--learning-rate", "--ms [1, 2", "--ms 1 2", "--amp true --ms 3"],
)
def test_commands_longer_than_256_words_are_judged_to_the_end(tail: str) -> None:
    # Past CPython's small-int cache, positions must be compared by value: the
    # last option is still read, and the end of the command is never passed.
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    filler = "x " * 300
    expected = {
        "--amp true --ms 3": [
            ("flag_value", "--amp true", "--amp (sets True) or nothing (leaves False)")
        ],
        "--ms [1, 2": [("list_literal", "--ms [1, 2", "--ms V1 V2 ... (separate words)")],
    }
    assert _values("argparse", filler + tail, LR, AMP, space) == expected.get(tail, [])


def test_rejected_options_are_values() -> None:
    [found] = rejected_options("python t.py --learning_rate 1", ExtractionResult("argparse", [LR]))
    assert found in {found}  # hashable: kept in sets when messages are de-duplicated
    with pytest.raises(AttributeError):
        found.option = "--other"  # type: ignore[misc]


def test_globals_other_spelling_gets_the_family_fix_not_the_two_words_message() -> None:
    # "--drop-out" sorts before the declared "--drop_out" but is another spelling.
    drop = Argument("drop_out", "float", 0.1, flags=("--drop_out",))
    [found] = rejected_options("python t.py --drop-out 1", ExtractionResult("globals", [drop]))
    assert "so write --drop_out=VALUE (no space, one word)" in found.message("t.py")
    assert "two words" not in found.message("t.py")


def test_an_argument_named_no_something_is_itself() -> None:
    no_aug = Argument("no_aug", "bool", False, flags=("--no_aug",), kind="flag", flag_value=True)
    assert _values("argparse", "--no_aug true", no_aug) == [
        ("flag_value", "--no_aug true", "--no_aug (sets True) or nothing (leaves False)")
    ]
    # Found by its name (the backend's spelling), not as the negation of "aug".
    assert _values("click", "--no-aug true", no_aug) == [
        ("flag_value", "--no-aug true", "--no_aug (sets True) or nothing (leaves False)")
    ]


def test_the_words_of_a_list_literal_are_not_free_words() -> None:
    space = Argument("ms", "int", None, flags=("--ms",), kind="list", list_style="space", nargs="+")
    data = Argument("data", "str", None, kind="positional")
    assert _values("argparse", "--ms [1,2] --amp true", space, AMP, data) == [
        ("list_literal", "--ms [1,2]", "--ms V1 V2 ... (separate words)")
    ]


def test_accepted_names_the_first_negative_option_string() -> None:
    negatives = ("--no-flip", "-F")
    flip = Argument(
        "flip", "bool", True, flags=("--flip",), kind="negatable", negative_flags=negatives
    )
    assert _accepted(flip) == "--flip (true) or --no-flip (false)"


def test_an_accepted_prefix_does_not_end_the_check() -> None:
    lr = Argument("lr", "float", 0.1, flags=("--lr-rate",))
    epochs = Argument("num_epochs", "int", 3, flags=("--num-epochs",))
    # "--lr" is argparse's unique prefix of "--lr-rate": accepted; the next is not.
    assert _rejected("argparse", "--lr 0.1 --num_epochs 3", lr, epochs) == ["--num_epochs"]


def test_only_a_double_dash_ends_the_options() -> None:
    # "+1" sorts before "--" but is a value like any other.
    assert _rejected("argparse", "--epochs +1 --learning_rate 0.1", LR, EPOCHS) == [
        "--learning_rate"
    ]
