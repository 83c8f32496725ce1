"""``keynet-train completion bash|zsh|fish``: shell completion generated from the argparse tree.

The scripts are produced from the same parser the CLI runs, so a new flag or
command is completed without anyone editing a script. Our own small
generator instead of a dependency: the tree is two levels deep and uses only
options, sub-commands and ``choices``.
"""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import ArgumentParser, add_command, path_arg

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.cli.parser import Subparsers

SHELLS = ("bash", "zsh", "fish")

EPILOG = """\
examples:
  mkdir -p ~/.local/share/bash-completion/completions
  keynet-train completion bash > ~/.local/share/bash-completion/completions/keynet-train
  mkdir -p ~/.zfunc    # and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  keynet-train completion zsh > ~/.zfunc/_keynet-train
  mkdir -p ~/.config/fish/completions
  keynet-train completion fish > ~/.config/fish/completions/keynet-train.fish
  source <(keynet-train completion bash)                          # this shell only
"""


def register(sub: Subparsers) -> None:
    """Add ``completion``."""
    p = add_command(
        sub,
        "completion",
        description="Print a completion script for SHELL, generated from keynet-train's own "
        "argument parser: commands, options and their fixed choices.",
        epilog=EPILOG,
    )
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
    p.set_defaults(handler=run)


class CommandSpec:
    """One (sub-)command: its path of names, options, option choices, sub-commands."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.options: list[str] = []
        self.value_options: dict[str, list[str]] = {}
        self.file_options: list[str] = []
        self.subcommands: dict[str, str] = {}
        self.positional_choices: list[str] = []
        self.positional_files = False


def walk(parser: ArgumentParser, path: tuple[str, ...] = ()) -> list[CommandSpec]:
    """Every command of ``parser``'s tree, parents before children.

    Reads the tree through what :class:`ArgumentParser` records (its
    arguments, its sub-commands and their summaries).
    """
    spec = CommandSpec(path)
    children: list[CommandSpec] = []
    for action in parser.arguments:
        if action.option_strings:
            spec.options.extend(action.option_strings)
            if action.nargs != 0:
                for option in action.option_strings:
                    spec.value_options[option] = [str(c) for c in action.choices or ()]
                if action.type is path_arg:
                    spec.file_options.extend(action.option_strings)
        elif action.choices:
            spec.positional_choices.extend(str(c) for c in action.choices)
        elif (completes := getattr(action, "completes", None)) is not None:
            # Words set on the action by its command (config set's keys); () for none.
            spec.positional_choices.extend(str(c) for c in completes)
        else:
            spec.positional_files = True
    if parser.subcommands is not None:
        for name, child in dict(parser.subcommands.choices or {}).items():
            assert isinstance(child, ArgumentParser), "add_subparsers(parser_class=ArgumentParser)"
            spec.subcommands[name] = child.summary
            children.extend(walk(child, (*path, name)))
    return [spec, *children]


def run(args: argparse.Namespace, env: Environment) -> int:
    """Print the script for ``args.shell``."""
    from keynet_train.cli.main import PROG, build_parser

    specs = walk(build_parser())
    render = {"bash": render_bash, "zsh": render_zsh, "fish": render_fish}[args.shell]
    env.stdout.write(render(PROG, specs))
    env.stdout.flush()
    return 0


def _words(items: list[str]) -> str:
    return " ".join(items)


def render_bash(prog: str, specs: list[CommandSpec]) -> str:
    """A bash completion function (also loaded by zsh's bashcompinit)."""
    func = "_" + prog.replace("-", "_")
    cases = []
    for spec in specs:
        key = " ".join(spec.path)
        value_cases = []
        for option, choices in spec.value_options.items():
            if choices:
                reply = f'COMPREPLY=($(compgen -W "{_words(choices)}" -- "$cur"))'
                value_cases.append(f"            {option}) {reply}; return;;")
            elif option in spec.file_options:
                reply = 'COMPREPLY=($(compgen -f -- "$cur"))'
                value_cases.append(f"            {option}) {reply}; return;;")
            else:
                value_cases.append(f"            {option}) return;;")
        words = _words([*spec.subcommands, *spec.positional_choices])
        files = "1" if spec.positional_files and not spec.subcommands else "0"
        cases.append(
            f'        "{key}")\n'
            f'          case "$prev" in\n' + "\n".join(value_cases) + "\n"
            "          esac\n"
            f'          opts="{_words(spec.options)}"; words="{words}"; files={files};;'
        )
    return f"""# bash completion for {prog} (generated by `{prog} completion bash`)
{func}() {{
  local cur prev path="" opts words files i w
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  # The command path so far: the non-option words that name sub-commands.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${{COMP_WORDS[i]}}"
    case "$w" in -*) continue;; esac
    if _keynet_is_command "${{path:+$path }}$w"; then path="${{path:+$path }}$w"; fi
  done
  case "$path" in
{chr(10).join(cases)}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n "$words" ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  elif [[ "$files" == 1 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}}
_keynet_is_command() {{
  case "$1" in
    {"|".join(f'"{" ".join(s.path)}"' for s in specs if s.path)}) return 0;;
  esac
  return 1
}}
complete -o default -F {func} {prog}
"""


def render_zsh(prog: str, specs: list[CommandSpec]) -> str:
    """A zsh completion: the bash function through zsh's bashcompinit."""
    return (
        f"#compdef {prog}\n"
        f"# zsh completion for {prog} (generated by `{prog} completion zsh`)\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + render_bash(prog, specs)
    )


def _fish_condition(spec: CommandSpec, all_specs: list[CommandSpec]) -> str:
    if not spec.path:
        names = [s.path[0] for s in all_specs if len(s.path) == 1]
        return f"not __fish_seen_subcommand_from {_words(names)}"
    parts = [f"__fish_seen_subcommand_from {name}" for name in spec.path]
    children = [s.path[-1] for s in all_specs if s.path[:-1] == spec.path and s.path]
    if children:
        parts.append(f"not __fish_seen_subcommand_from {_words(children)}")
    return "; and ".join(parts)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_fish(prog: str, specs: list[CommandSpec]) -> str:
    """A fish completion script."""
    lines = [f"# fish completion for {prog} (generated by `{prog} completion fish`)"]
    lines.append(f"complete -c {prog} -f")
    for spec in specs:
        condition = _fish_quote(_fish_condition(spec, specs))
        for name, help_text in spec.subcommands.items():
            lines.append(f"complete -c {prog} -n {condition} -a {name} -d {_fish_quote(help_text)}")
        for choice in spec.positional_choices:
            lines.append(f"complete -c {prog} -n {condition} -a {choice}")
        if spec.positional_files and not spec.subcommands:
            lines.append(f"complete -c {prog} -n {condition} -F")
        for option in spec.options:
            flag = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
            choices = spec.value_options.get(option)
            extra = ""
            if choices:
                extra = f" -x -a {_fish_quote(_words(choices))}"
            elif option in spec.file_options:
                extra = " -r -F"
            elif choices is not None:
                extra = " -x"
            lines.append(f"complete -c {prog} -n {condition} {flag}{extra}")
    return "\n".join(lines) + "\n"
