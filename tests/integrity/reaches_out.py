# expect: {"1": 10, "2": 10, "3": 15} message: "Graded hw8.py"
# At the top level: TCP and UDP to a port of the test's on 127.0.0.1, the machine's sockets from /proc, and a
# file written into each of PLANTS: the grader's own checks, and folders of the test's (standing for a
# classmate's results.json).
import socket as _socket
for _make in (lambda: _socket.create_connection(("127.0.0.1", TCP_PORT), timeout=2),
              lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", UDP_PORT)),
              lambda: open("/proc/net/tcp").read(),
              *[lambda path=path: open(path, "w").write("planted = True\n") for path in PLANTS]):
    try:
        _make()
    except OSError:
        pass
