"""The layer that makes the host's /etc writable inside a rootless local instance: readable files
copied, unreadable ones empty with their mode, locked shadow entries for the copied accounts."""

from __future__ import annotations

from pathlib import Path

from xrdeploy_local_cloud.instances import skeleton


def test_an_unreadable_file_becomes_an_empty_one_of_its_mode(tmp_path: Path) -> None:
    host, layer = tmp_path / "host", tmp_path / "layer"
    host.mkdir()
    layer.mkdir()
    (host / "hosts").write_text("127.0.0.1 localhost\n")
    (host / "link").symlink_to("hosts")
    secret = host / ".pwd.lock"
    secret.write_text("")
    secret.chmod(0o600)
    for name in ("hosts", "link", ".pwd.lock"):
        skeleton._copy(host / name, layer / name)
    assert (layer / "hosts").read_text() == "127.0.0.1 localhost\n"
    assert (layer / "link").readlink() == Path("hosts")
    assert (layer / ".pwd.lock").stat().st_mode & 0o777 == 0o600


def test_shadow_files_get_a_locked_entry_per_copied_account(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(
        "root:x:0:0::/root:/bin/bash\nsshd:x:101:65534::/:/bin/false\n"
    )
    (tmp_path / "group").write_text("root:x:0:\n")
    (tmp_path / "shadow").touch()  # the host's was unreadable: an empty stand-in was copied
    skeleton._account_files(tmp_path)
    assert (tmp_path / "shadow").read_text() == "root:*::0:99999:7:::\nsshd:*::0:99999:7:::\n"
    assert (tmp_path / "gshadow").read_text() == "root:*::0:99999:7:::\n"
    assert (tmp_path / "shadow").stat().st_mode & 0o777 == 0o640


def test_the_mirror_keeps_directory_modes_and_links_without_files(tmp_path: Path) -> None:
    host, layer = tmp_path / "usr", tmp_path / "layer"
    (host / "share" / "doc").mkdir(parents=True)
    (host / "share" / "doc" / "README").write_text("x")
    (host / "lib64").symlink_to("share")
    (host / "share").chmod(0o711)
    modes = dict(skeleton._mirror(host, layer, copy_files=False))
    assert modes[layer / "share"] == 0o711
    assert (layer / "share" / "doc").is_dir()
    assert not (layer / "share" / "doc" / "README").exists()
    assert (layer / "lib64").readlink() == Path("share")


def test_the_mirror_stops_at_its_depth(tmp_path: Path) -> None:
    host, layer = tmp_path / "var", tmp_path / "layer"
    (host / "a" / "b" / "c" / "d" / "e").mkdir(parents=True)
    skeleton._mirror(host, layer, copy_files=False)
    assert (layer / "a" / "b" / "c" / "d").is_dir()
    assert not (layer / "a" / "b" / "c" / "d" / "e").exists()
