"""Fixtures for the browser suites: the e2e suites' own fixtures (registry, workdir, root
check), loaded from tests/e2e/conftest.py under the module name e2e_conftest, plus the
helpers its modules import from "conftest" (Pushed, is_berthd)."""

import importlib.util
import os
import sys

E2E = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "e2e"))
sys.path.insert(0, E2E)

_spec = importlib.util.spec_from_file_location("e2e_conftest", os.path.join(E2E, "conftest.py"))
_e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = _e2e
_spec.loader.exec_module(_e2e)

from e2e_conftest import Pushed, _root_only, is_berthd, new_daemon, registry, workdir  # noqa: E402,F401

pytest_configure = _e2e.pytest_configure
