"""The platform-command checks of a push (docs/platform-command.md).

:func:`check_platform_command` compares the training command the platform will
build from the image label with what the script accepts, before the upload key
is requested; :func:`check_backend_command` does the same with the arguments the
backend stored with the key. :func:`platform_command_text` is the command shown
in ``push --json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.errors import CommandMismatchError
from keynet_train.progress import Reporter

if TYPE_CHECKING:
    from keynet_train.backend.client import UploadKeyResponse
    from keynet_train.extraction.platform import PlatformCheck, PlatformProblem
    from keynet_train.push.pipeline import PreparedPush


def platform_command_text(prepared: PreparedPush, model_name: str) -> str:
    """The predicted platform command for the model name the image check chose.

    The check before the build used the script's path in the context; the
    problems found do not depend on the model name, only the words shown.
    """
    from keynet_train.extraction.platform import predict_platform_command

    if prepared.platform is None:
        return ""
    return predict_platform_command(prepared.extraction, model_name).text


def check_platform_command(
    prepared: PreparedPush, dry_run: bool, reporter: Reporter
) -> PlatformCheck:
    """Before the key: the command the platform will build for the defaults, checked.

    The backend writes ``python {modelName} --{name} {value}`` from the request
    alone (docs/platform-command.md), so a script that would reject it is
    refused here, before anything is registered. ``command_check = "warn"``
    (or ``--allow-command-mismatch``) makes each problem a warning; a dry run
    only reports them (in its result).

    Raises:
        CommandMismatchError: the script would reject the predicted command.
    """
    from keynet_train.extraction.platform import check_platform_command, problems_message
    from keynet_train.notices import COMMAND_MISMATCH, Notice

    title = "Check the platform's training command"
    reporter.step_started(title)
    script = prepared.entry_in_context
    # The image check chooses the model name after the build; until then the
    # script's path in the context is the first one it tries (docs/push.md).
    model_name = prepared.settings.model_name or script
    check = check_platform_command(prepared.extraction, model_name, script)
    reporter.info(f"Platform command (defaults): {check.command.text}")
    count = len(check.problems)
    if not count:
        reporter.step_finished(title, "the script accepts it")
        return check
    message = problems_message(check.command.text, check.problems, script)
    if dry_run:
        reporter.step_finished(title, f"{count} problem(s): push would refuse it")
    elif prepared.settings.command_check == "warn":
        reporter.notice(Notice(COMMAND_MISMATCH, message, script))
        reporter.step_finished(title, f"{count} problem(s), allowed (--allow-command-mismatch)")
    else:
        raise CommandMismatchError(
            message,
            "Nothing was registered or pushed. Apply each fix, then push again. Only if your "
            "platform builds the command from the image label's descriptor: pass "
            '--allow-command-mismatch (or set command_check = "warn" in the project file). '
            "See docs/platform-command.md.",
        )
    return check


def check_backend_command(
    upload: UploadKeyResponse, prepared: PreparedPush, reporter: Reporter
) -> list[PlatformProblem]:
    """After the key, before anything is labelled, tagged or pushed: the backend's command.

    Returns its problems when ``command_check`` is "warn" (each one a warning).

    Raises:
        CommandMismatchError: the script would reject the backend's command
            (the upload key is registered; the message says so).
    """
    from keynet_train.extraction.platform import platform_command_problems, problems_message
    from keynet_train.notices import BACKEND_COMMAND_MISMATCH, Notice

    if not upload.command:
        return []
    reporter.info(f"Training command: {upload.command}")
    script = prepared.entry_in_context
    problems = platform_command_problems(upload.command, prepared.extraction, script)
    if not problems:
        return []
    message = problems_message(upload.command, problems, script).replace(
        "The platform will run", "The backend returned the training command", 1
    )
    if prepared.settings.command_check == "warn":
        reporter.notice(Notice(BACKEND_COMMAND_MISMATCH, message, script))
        return problems
    raise CommandMismatchError(
        message,
        f"Upload key {upload.upload_key} is registered without an image: nothing was tagged "
        "or pushed. Apply each fix, then push again. Only if your platform builds the command "
        "from the image label's descriptor: pass --allow-command-mismatch (or set "
        'command_check = "warn" in the project file). See docs/platform-command.md.',
    )
