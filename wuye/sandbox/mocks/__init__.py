"""Mock external platforms, each defined by an OpenAPI document and served from it.

A mock is a small :class:`~wuye.sandbox.mocks.base.MockPlatform` subclass: its
document, how callers authenticate, and one method per ``operationId``. The
routes, parameter parsing and validation of requests and responses all come
from the document. :data:`PLATFORMS` is the one table of them.
"""

from __future__ import annotations

from wuye.sandbox.mocks.base import MockPlatform
from wuye.sandbox.mocks.ecommerce import EcommercePlatform
from wuye.sandbox.mocks.hpf import ProvidentFundPlatform
from wuye.sandbox.mocks.legacy_pms import LegacyPropertySystem
from wuye.sandbox.mocks.utility import UtilityPlatform

PLATFORMS: dict[str, type[MockPlatform]] = {
    "utility": UtilityPlatform,
    "hpf": ProvidentFundPlatform,
    "ecommerce": EcommercePlatform,
    "legacy-pms": LegacyPropertySystem,
}
