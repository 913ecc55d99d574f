"""Make sure a NativeAuthenticator account exists and can log in (used for the inventory's hub admins).

Usage: hub_account.py BASE_URL USERNAME  (password on stdin). Prints "exists" or "created"; exit 1 with one
line on failure. Admins named in Authenticator.admin_users are approved at sign-up, so signing them up at
deploy time keeps anybody else from claiming the name first.
"""
import sys

import requests


def login(session: requests.Session, base: str, user: str, password: str) -> bool:
    session.get(f"{base}/hub/login", timeout=30)
    form = {"username": user, "password": password, "_xsrf": session.cookies.get("_xsrf", "")}
    resp = session.post(f"{base}/hub/login", allow_redirects=False, timeout=30, data=form)
    return resp.status_code == 302 and "/hub/login" not in resp.headers.get("Location", "")


def main() -> int:
    base, user = sys.argv[1].rstrip("/"), sys.argv[2]
    password = sys.stdin.read().strip()
    if login(requests.Session(), base, user, password):
        print("exists")
        return 0
    s = requests.Session()
    s.get(f"{base}/hub/signup", timeout=30)
    s.post(f"{base}/hub/signup", timeout=30,
           data={"username": user, "signup_password": password, "signup_password_confirmation": password,
                 "_xsrf": s.cookies.get("_xsrf", "")})
    if login(requests.Session(), base, user, password):
        print("created")
        return 0
    print(f"hub_account: {user} cannot log in after sign-up (name taken with another password?)",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
