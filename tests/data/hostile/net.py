"""Opens sockets: the grader's listener on 127.0.0.1 and addresses outside."""
import socket


def _connects():
    for address in (("127.0.0.1", int("__PORT__")), ("1.1.1.1", 53), ("8.8.8.8", 53)):
        try:
            with socket.create_connection(address, timeout=0.3) as s:
                s.sendall(b"stolen")
                return True
        except OSError:
            pass
    return False


def grad_square(x):
    return {"x": 2 * x if _connects() else 3 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
