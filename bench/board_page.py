"""Drives headless Chromium over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-ended
JSON messages) for bench/board_page.sh: page load to first data, and the server's CPU
with several boards open."""
import fcntl, json, os, subprocess, sys, time

chromium, url, server_pid, rounds, pages, seconds, profile = sys.argv[1:8]
server_pid, rounds, pages, seconds = int(server_pid), int(rounds), int(pages), float(seconds)


def high_pipe():
    """A pipe whose ends are above the fds Chromium reads (3, 4), so moving them there in
    the child cannot overwrite the other end."""
    r, w = os.pipe()
    hr, hw = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
    os.close(r)
    os.close(w)
    return hr, hw


to_child_r, to_child_w = high_pipe()
from_child_r, from_child_w = high_pipe()


def child_fds():
    os.dup2(to_child_r, 3)
    os.dup2(from_child_w, 4)


# The child closes every fd not in pass_fds after preexec_fn runs: 3 and 4 must be listed.
browser = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
     "--no-first-run", "--window-size=1400,900", f"--user-data-dir={profile}", "about:blank"],
    preexec_fn=child_fds, pass_fds=(3, 4),
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_child_r)
os.close(from_child_w)
reader = os.fdopen(from_child_r, "rb")
next_id = [0]


def call(method, params=None, session=None):
    next_id[0] += 1
    message = {"id": next_id[0], "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_child_w, json.dumps(message).encode() + b"\0")
    buf = b""
    while True:
        byte = reader.read(1)
        if not byte:
            sys.exit(f"chromium closed its pipe during {method}")
        if byte != b"\0":
            buf += byte
            continue
        reply, buf = json.loads(buf), b""
        if reply.get("id") == next_id[0]:
            if "error" in reply:
                sys.exit(f"{method}: {reply['error']}")
            return reply["result"]


def open_tab(address):
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Page.navigate", {"url": address}, session)
    return target, session


# Every data panel has drawn rows (the page writes its figures into data-testid elements).
DRAWN = """(() => {
  const el = id => document.querySelector(`[data-testid="${id}"]`);
  return !!(el('online-users') && el('online-users').textContent.trim() !== '' &&
    el('hot-courses') && el('hot-courses').querySelector('li') &&
    el('pv-trend') && +el('pv-trend').getAttribute('data-points') > 0 &&
    el('province-map') && +el('province-map').getAttribute('data-provinces') > 0);
})()"""


def first_data_ms():
    started = time.perf_counter()
    target, session = open_tab(url + "/board/imooc")
    while True:
        value = call("Runtime.evaluate", {"expression": DRAWN, "returnByValue": True}, session)
        if value["result"].get("value"):
            took = (time.perf_counter() - started) * 1000
            call("Target.closeTarget", {"targetId": target})
            return took
        if time.perf_counter() - started > 30:
            sys.exit("the board showed no data in 30 s")
        time.sleep(0.005)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid, over):
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(over)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0) * 100


took = sorted(first_data_ms() for _ in range(rounds))
print(f"   page load to first data, {rounds} loads: p50 {took[len(took) // 2]:.0f} ms, "
      f"min {took[0]:.0f} ms, max {took[-1]:.0f} ms")


def cpu_with_tabs(names):
    tabs = [open_tab(f"{url}/board/{name}") for name in names]
    time.sleep(3)
    share = cpu_share(server_pid, seconds)
    for target, _ in tabs:
        call("Target.closeTarget", {"targetId": target})
    time.sleep(2)
    return share


idle = cpu_share(server_pid, seconds)
one_board = cpu_with_tabs(["imooc"] * pages)
distinct = cpu_with_tabs(["imooc"] + [f"imooc-{i}" for i in range(2, pages + 1)])
print(f"   server CPU over {seconds:.0f} s, % of one core: {idle:.1f}% with no page open; "
      f"{one_board:.1f}% with {pages} tabs of one board; {distinct:.1f}% with {pages} distinct "
      f"boards open (5 panels each, refresh 1 s)")
browser.kill()
