"""A service's state per account and region, kept in LocalStack's own store bundle (so it lives
and is reset as LocalStack's services' state is); the state learns its account and region on
first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute


class RegionScoped(Protocol):
    account_id: str
    region: str


State = TypeVar("State", bound=RegionScoped)


class RegionStates(Generic[State]):
    """``states(account_id, region)``: the state of that account and region, made on first use.

    ``service`` names the bundle as botocore names the API (LocalStack looks its regions up).
    """

    def __init__(self, service: str, new_state: Callable[[], State]) -> None:
        store = type(f"{service}-store", (BaseStore,), {"state": LocalAttribute(default=new_state)})
        self._bundle: AccountRegionBundle[Any] = AccountRegionBundle(service, store)

    def __call__(self, account_id: str, region: str) -> State:
        state: State = self._bundle[account_id][region].state
        if not state.account_id:
            state.account_id, state.region = account_id, region
        return state
