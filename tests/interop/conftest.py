"""Fixtures of the interop tests (helpers: quicbed_util.py)."""

from __future__ import annotations

import pytest

from quicbed_util import P


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A test CA and a server chain for it (peers.make_certs), per module."""
    return P.make_certs(tmp_path_factory.mktemp("certs"))
