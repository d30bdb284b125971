"""The examples in the OSS process modules' docstrings are run, so they cannot drift from the code."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from shared.ops import oss as oss_process
from shared.ops.oss import common as oss_common
from shared.ops.oss import concat as oss_concat
from shared.ops.oss import convert as oss_convert
from shared.ops.oss import params as oss_params
from shared.ops.oss import saveas as oss_saveas


@pytest.mark.parametrize("module", [oss_common, oss_params, oss_saveas, oss_convert, oss_concat, oss_process])
def test_the_docstring_examples_of_each_module_hold(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
