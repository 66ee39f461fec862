#!/usr/bin/python3
"""The sandbox as a service sees it: run as a unit's ExecStart (in a
drop-in that changes nothing else), it prints one JSON object on stdout and
exits 0 whatever it finds; test_systemd.py judges it.

  ids      uid, gid, user and group names, supplementary groups
  status   CapInh/CapPrm/CapEff/CapBnd/CapAmb (hex), NoNewPrivs, Seccomp,
           Seccomp_filters from /proc/self/status
  create   for each directory named below: "ok" if a new file could be made
           in it (removed again), else the errno name (EROFS: a read-only
           mount; EACCES: permissions; ENOENT: not there)
  sockets  for AF_INET, AF_INET6, AF_UNIX, AF_NETLINK: "ok" or the errno name
  netdevs  the network interfaces (/sys/class/net)
  devices  what is in /dev
  home     what is in /home and /root, or the errno name
"""
import errno
import grp
import json
import os
import pwd
import socket

DIRS = ["/", "/etc", "/etc/accessowl", "/usr", "/usr/sbin", "/usr/lib",
        "/var", "/var/lib", "/var/log", "/var/cache", "/var/spool",
        "/var/spool/accessowl", "/var/lib/accessowl",
        "/var/lib/prometheus/node-exporter", "/run", "/run/accessowl",
        "/boot", "/opt", "/srv", "/home", "/root", "/tmp", "/var/tmp",
        "/dev/shm"]


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def create(d):
    p = os.path.join(d, f".ao-probe-{os.getpid()}")
    try:
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as e:
        return err(e)
    os.close(fd)
    os.unlink(p)
    return "ok"


def sock(family):
    try:
        s = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as e:
        return err(e)
    s.close()
    return "ok"


def listing(d):
    try:
        return sorted(os.listdir(d))
    except OSError as e:
        return err(e)


def main():
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Cap") or k in ("NoNewPrivs", "Seccomp",
                                             "Seccomp_filters"):
                status[k] = v.strip()
    uid, gid = os.getuid(), os.getgid()
    out = {
        "ids": {"uid": uid, "euid": os.geteuid(), "gid": gid,
                "user": pwd.getpwuid(uid).pw_name,
                "group": grp.getgrgid(gid).gr_name,
                "groups": sorted(os.getgroups())},
        "status": status,
        "create": {d: create(d) for d in DIRS},
        "sockets": {name: sock(getattr(socket, name)) for name in
                    ("AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK")},
        "netdevs": listing("/sys/class/net"),
        "devices": listing("/dev"),
        "home": {d: listing(d) for d in ("/home", "/root")},
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
