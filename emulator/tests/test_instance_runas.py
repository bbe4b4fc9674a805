"""A hook's ``runas`` user inside a local instance, as the agent's ``su USER -c`` treats it: the
user's ids and login variables, su's refusal for an unknown user, the shell's for a service
account without a login."""

from __future__ import annotations

import os
import pwd

import pytest

from xrdeploy_local_cloud.instances import control

SERVICE = pwd.struct_passwd(("svc", "x", 990, 990, "", "/var/lib/svc", "/sbin/nologin"))


def test_the_command_runs_as_the_user_with_its_login_variables() -> None:
    me = pwd.getpwuid(os.getuid())  # a user this test may switch to, root or not
    script = 'echo "$(id -u) $HOME $USER $LOGNAME $SHELL $LIFECYCLE_EVENT"'
    answer = control.run(
        ["/bin/sh", "-c", script], {"LIFECYCLE_EVENT": "AfterInstall"}, "/", 10, me.pw_name
    )
    shell = me.pw_shell or "/bin/sh"
    expected = f"{me.pw_uid} {me.pw_dir} {me.pw_name} {me.pw_name} {shell} AfterInstall\n"
    assert answer == {"exit_code": 0, "output": expected, "timed_out": False}


def test_an_unknown_user_fails_with_sus_words() -> None:
    answer = control.run(["/bin/true"], {}, "/", 10, "no-such-user-xrdeploy")
    assert answer == {
        "exit_code": 1,
        "output": "su: user no-such-user-xrdeploy does not exist or the user entry does not "
        "contain all the required fields\n",
        "timed_out": False,
    }


def test_a_service_account_without_a_login_shell_refuses_as_nologin_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(control, "_account", lambda user: SERVICE)
    answer = control.run(["/bin/true"], {}, "/", 10, "svc")
    assert answer == {
        "exit_code": 1,
        "output": "This account is currently not available.\n",
        "timed_out": False,
    }
