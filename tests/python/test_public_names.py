"""Public names report dftracer.utils, have docstrings and reprs; the
package's own errors share one base class."""

from __future__ import annotations

import inspect

import pytest

import dftracer.utils as dft

PUBLIC_CLASSES = [dft.Runtime, dft.RuntimeExecutor, dft.TaskGroup, dft.TaskHandle, dft.TaskOptions,
                  dft.WatchdogReport, dft.DoneAndNotDone, dft.DFTracerError, dft.TaskTimeoutError, dft.Progress]


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_public_classes_report_the_package_module(cls):
    assert cls.__module__ == "dftracer.utils"
    assert inspect.getdoc(cls)


def test_every_public_class_and_function_is_documented_under_the_package():
    for name in dft.__all__:
        obj = getattr(dft, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            assert obj.__module__ == "dftracer.utils", name


def test_task_timeout_error_is_a_timeout_and_a_package_error():
    assert issubclass(dft.TaskTimeoutError, TimeoutError)
    assert issubclass(dft.TaskTimeoutError, dft.DFTracerError)
    assert issubclass(dft.DFTracerError, Exception)
    assert "timeout" in dft.TaskTimeoutError.__doc__


def test_task_timeout_error_from_a_task_is_the_public_class(rt):
    handle = rt.options(timeout=0.01).submit(lambda: dft.stop_requested() or _wait_for_stop())
    with pytest.raises(dft.DFTracerError) as info:
        handle.get(timeout=30)
    assert type(info.value) is dft.TaskTimeoutError
    assert "dftracer.utils.TaskTimeoutError" in repr(type(info.value))


def _wait_for_stop():
    import threading

    while not dft.stop_requested():
        threading.Event().wait(0.001)


def test_reprs(rt):
    assert repr(rt).startswith("<Runtime threads=2")
    assert repr(rt.options(pool="io", timeout=2)) == "<TaskOptions pool='io' timeout=2.0>"
    handle = rt.submit(abs, -1, name="a")
    handle.wait()
    assert repr(handle) == f"<TaskHandle id={handle.id} name='a' state=completed>"
    assert repr(handle.as_future()).startswith("<BoundFuture of <TaskHandle")
    assert repr(rt.as_executor()).startswith("<RuntimeExecutor pool='compute'")
    assert repr(rt.group("g")).startswith("<TaskGroup 'g' new")
