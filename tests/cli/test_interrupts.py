"""Stop signals become Stopped in the main thread; later ones never cut cleanup short."""

from __future__ import annotations

import os
import signal
from io import StringIO

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.status import exit_status_for, render_error
from keynet_train.interrupts import Stopped, StopSignals, shielded

# Runs correctly under nohup too (see the fixture).
pytestmark = pytest.mark.usefixtures("default_stop_signals")


def _raise_signal(signum: int) -> None:
    os.kill(os.getpid(), signum)
    # Python runs the handler at the next bytecode boundary of the main thread.
    for _ in range(1000):
        pass


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_each_stop_signal_raises_stopped_and_handlers_are_restored(signum: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(Stopped) as info, StopSignals():
        _raise_signal(signum)
    assert info.value.signum == signum
    assert isinstance(info.value, KeyboardInterrupt)  # every Ctrl-C cleanup path applies
    assert exit_status_for(info.value) == 128 + signum
    assert signal.getsignal(signum) == before


def test_only_the_first_signal_raises() -> None:
    cleaned = []
    with pytest.raises(Stopped) as info, StopSignals() as stops:
        try:
            _raise_signal(signal.SIGTERM)
        finally:
            _raise_signal(signal.SIGTERM)  # during cleanup: recorded, not raised
            _raise_signal(signal.SIGINT)
            cleaned.append(True)
    assert info.value.signum == signal.SIGTERM
    assert cleaned == [True]
    assert stops.received == [signal.SIGTERM, signal.SIGTERM, signal.SIGINT]


def test_a_shielded_block_finishes_before_the_signal_is_raised() -> None:
    steps = []
    with pytest.raises(Stopped), StopSignals():
        with shielded():
            _raise_signal(signal.SIGHUP)
            steps.append("after the signal, still inside")
        steps.append("never")
    assert steps == ["after the signal, still inside"]


def test_nested_shields_hold_the_signal_until_the_outermost_ends() -> None:
    steps = []
    with pytest.raises(Stopped) as info, StopSignals():
        with shielded():
            with shielded():
                _raise_signal(signal.SIGTERM)
                steps.append("inner")
            steps.append("outer, after the inner shield ended")
        steps.append("never")
    assert info.value.signum == signal.SIGTERM
    assert steps == ["inner", "outer, after the inner shield ended"]


def test_an_error_in_a_shielded_block_goes_first_and_the_signal_waits() -> None:
    with StopSignals() as stops:
        with pytest.raises(ValueError, match="boom"), shielded():
            _raise_signal(signal.SIGINT)
            raise ValueError("boom")
        # The held-back signal is raised by the next shielded block that ends normally.
        with pytest.raises(Stopped) as info, shielded():
            pass
    assert info.value.signum == signal.SIGINT
    assert stops.received == [signal.SIGINT]


def test_shielded_without_stop_signals_just_runs() -> None:
    with shielded():
        pass


def test_an_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with StopSignals():
            _raise_signal(signal.SIGHUP)  # nohup: the terminal closing does not stop us
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.mark.parametrize(
    ("signum", "message"),
    [
        (signal.SIGINT, "Error: Interrupted."),
        (signal.SIGTERM, "Error: Stopped by SIGTERM."),
        (signal.SIGHUP, "Error: Stopped by SIGHUP."),
    ],
)
def test_rendering(signum: int, message: str) -> None:
    env = Environment(stdin=StringIO(), stdout=StringIO(), stderr=StringIO(), environ={})
    assert render_error(Stopped(signum), env) == 128 + signum
    assert isinstance(env.stderr, StringIO)
    assert message in env.stderr.getvalue()


def test_rendering_to_a_closed_terminal_does_not_raise() -> None:
    stderr = StringIO()
    stderr.close()  # SIGHUP: the terminal is gone
    env = Environment(stdin=StringIO(), stdout=StringIO(), stderr=stderr, environ={})
    assert render_error(Stopped(signal.SIGHUP), env) == 129
