"""Running the four services for a test: one way, shared by e2e, fault and hostile suites."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tools.localstack import START_TIMEOUT_SECONDS, Stack, StackError


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """Starts the stack (a start-up failure fails the test with the logs); SIGTERM afterwards."""
    try:
        stack.start(timeout_seconds=START_TIMEOUT_SECONDS)
    except StackError as error:
        stack.stop()
        pytest.fail(str(error))
    try:
        yield stack
    finally:
        stack.stop()
