from __future__ import annotations

import pytest

from policy import Policy, load_policy
from tests.support.policies import SHIPPED


@pytest.fixture(scope="session")
def shipped() -> Policy:
    return load_policy(SHIPPED)
