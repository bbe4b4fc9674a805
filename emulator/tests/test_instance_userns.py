"""The uid and gid maps of a local instance: identity for a LocalStack running as root, the
caller plus its subordinate ranges otherwise, and the one-line fix when a host lacks them."""

from __future__ import annotations

import pytest
from pytest import MonkeyPatch

from xrdeploy_local_cloud.instances import userns
from xrdeploy_local_cloud.instances.userns import IdRange

SUBUID = """\
# a comment
alice:100000:65536
1001:300000:70000
bob:200000:1000
broken:line
"""


def test_root_maps_ids_0_to_65535_onto_themselves_without_helpers() -> None:
    plan = userns.identity_plan()
    assert plan == userns.MapPlan((IdRange(0, 0, 65536),), (IdRange(0, 0, 65536),), helpers=False)
    assert userns.map_text(plan.uid) == "0 0 65536\n"


def test_a_user_is_root_inside_and_every_other_id_comes_from_its_subordinate_range() -> None:
    plan = userns.unprivileged_plan("alice", 1000, 1000, SUBUID, SUBUID)
    assert plan.uid == (IdRange(0, 1000, 1), IdRange(1, 100000, 65535))
    assert plan.helpers
    assert userns.helper_arguments(plan.uid) == ["0", "1000", "1", "1", "100000", "65535"]
    assert userns.map_text(plan.gid) == "0 1000 1\n1 100000 65535\n"


def test_a_range_may_name_the_user_by_uid_as_shadow_reads_it() -> None:
    assert userns.subordinate_ranges(SUBUID, "carol", 1001) == [(300000, 70000)]
    assert userns.subordinate_range(SUBUID, "carol", 1001, "uid") == IdRange(1, 300000, 65535)


def test_no_range_or_one_too_small_is_refused_in_one_line_with_the_fix() -> None:
    with pytest.raises(userns.MapError) as small:
        userns.unprivileged_plan("bob", 1002, 1002, SUBUID, SUBUID)
    assert str(small.value) == (
        "user bob has no range of 65535 subordinate uids in /etc/subuid "
        "(fix: sudo usermod --add-subuids 100000-165535 bob)"
    )
    with pytest.raises(userns.MapError) as none:
        userns.unprivileged_plan("alice", 1000, 1000, SUBUID, "")
    assert "\n" not in str(none.value)
    assert str(none.value).endswith("(fix: sudo usermod --add-subgids 100000-165535 alice)")


def test_a_normal_user_without_newuidmap_is_told_which_package_to_install(
    monkeypatch: MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 65534)
    monkeypatch.setattr("shutil.which", lambda tool: None)
    with pytest.raises(userns.MapError) as missing:
        userns.current_plan()
    assert str(missing.value) == "`newuidmap` is not installed (fix: sudo apt-get install uidmap)"


def test_ubuntus_apparmor_restriction_is_named_with_the_sysctl_that_lifts_it() -> None:
    settings = {"kernel/apparmor_restrict_unprivileged_userns": "1"}
    assert userns.kernel_refusal(1000, settings) == (
        "the kernel refuses user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1; "
        "fix: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)"
    )
    # AppArmor's restriction spares root; a limit of zero namespaces does not.
    assert userns.kernel_refusal(0, settings) is None
    assert "user.max_user_namespaces=15000" in str(
        userns.kernel_refusal(0, {"user/max_user_namespaces": "0"})
    )
    assert (
        userns.kernel_refusal(1000, {"kernel/apparmor_restrict_unprivileged_userns": "0"}) is None
    )
