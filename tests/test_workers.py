"""The engine's threads leave Ctrl-C to the main thread; a commit does not take it."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from wheelnext_jupyter.workers import (
    WorkerPool,
    interrupts_blocked,
    start_thread,
    uninterrupted,
)

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "pthread_sigmask"), reason="signal masks are POSIX"
)


def _blocked() -> set[int]:
    return {int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, ())}


def _handle_pending() -> None:
    # Sleeping runs the handlers of signals already delivered.
    time.sleep(0.01)


def test_a_pools_threads_block_interrupts_and_the_caller_does_not() -> None:
    with WorkerPool(max_workers=2) as pool:
        masks = [pool.submit(_blocked).result() for _ in range(4)]
    assert all(signal.SIGINT in mask for mask in masks)
    assert signal.SIGINT not in _blocked()


def test_threads_a_pools_thread_starts_block_interrupts_too() -> None:
    seen: list[set[int]] = []

    def start_another() -> None:
        thread = threading.Thread(target=lambda: seen.append(_blocked()))
        thread.start()
        thread.join()

    with WorkerPool(max_workers=1) as pool:
        pool.submit(start_another).result()
    assert signal.SIGINT in seen[0]


def test_a_started_thread_blocks_interrupts() -> None:
    seen: list[set[int]] = []
    thread = threading.Thread(target=lambda: seen.append(_blocked()))
    start_thread(thread)
    thread.join()
    assert signal.SIGINT in seen[0]
    assert signal.SIGINT not in _blocked()


def test_an_interrupt_while_blocked_comes_once_the_block_is_over() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), interrupts_blocked():
        signal.raise_signal(signal.SIGINT)
        _handle_pending()
        finished = True
    assert finished
    assert signal.SIGINT not in _blocked()


def test_an_interrupt_during_an_uninterrupted_step_is_not_taken() -> None:
    try:
        with uninterrupted():
            signal.raise_signal(signal.SIGINT)
            _handle_pending()
        _handle_pending()  # nothing left to deliver
    except KeyboardInterrupt:
        pytest.fail("the interrupt was taken")
    assert signal.SIGINT not in _blocked()
    with pytest.raises(KeyboardInterrupt):  # and the next Ctrl-C is taken as usual
        signal.raise_signal(signal.SIGINT)
        _handle_pending()


def test_an_uninterrupted_step_inside_a_blocked_one_leaves_the_interrupt_to_it() -> None:
    with pytest.raises(KeyboardInterrupt), interrupts_blocked():
        with uninterrupted():
            signal.raise_signal(signal.SIGINT)
        _handle_pending()  # still held by the outer block, which delivers it when it ends


def test_a_failing_block_leaves_interrupts_as_they_were() -> None:
    with pytest.raises(ValueError), interrupts_blocked():
        raise ValueError("inside")
    with pytest.raises(ValueError), uninterrupted():
        raise ValueError("inside")
    assert signal.SIGINT not in _blocked()


def test_an_uninterrupted_step_off_the_main_thread_changes_no_mask() -> None:
    seen: list[set[int]] = []

    def step() -> None:
        with uninterrupted():
            seen.append(_blocked())

    thread = threading.Thread(target=step)
    thread.start()
    thread.join()
    assert signal.SIGINT not in seen[0]
