from conftest import Runner


def test_add_and_list(cli: Runner, library) -> None:
    r = cli("add", "--title", "Attention Is All You Need", "-a", "Ashish Vaswani", "--year", "2017")
    assert r.exit_code == 0, r
    assert r.stdout == "added vaswani2017attention: Attention Is All You Need\n"
    r = cli("show", "zzz")
    assert r.exit_code == 1
    assert r.stderr.startswith("papercli: error: no paper matches")
