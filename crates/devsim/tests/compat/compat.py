"""Drives simulated devices with unchanged third-party ISAPI clients (pyHik, hikvisionapi).

Usage: compat.py DEVICES_JSON CONTROL_ADDR
DEVICES_JSON is the simulator's device list; CONTROL_ADDR its control API (host:port).
Exits non-zero listing every check that failed.
"""

import json
import os
import sys
import time
import urllib.request

from hikvisionapi import Client
from pyhik.hikvision import HikCamera

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def emit(control, serial, body):
    req = urllib.request.Request(
        f"http://{control}/devices/{serial}/events",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def with_hikvisionapi(d):
    tag = f"hikvisionapi {d['type']} {d['model']}"
    cam = Client(f"http://{d['address']}", d["username"], d["password"], timeout=5)
    info = cam.System.deviceInfo(method="get")
    check(info["DeviceInfo"]["model"] == d["model"], f"{tag}: deviceInfo model")
    check(d["serial"] in info["DeviceInfo"]["serialNumber"], f"{tag}: deviceInfo serial")
    storage = cam.ContentMgmt.Storage(method="get")
    check("storage" in storage and "hddList" in storage["storage"], f"{tag}: storage")
    triggers = cam.Event.triggers(method="get")
    check("EventTriggerList" in triggers, f"{tag}: event triggers")
    # The first part arrives with the next heartbeat or event.
    events = cam.Event.notification.alertStream(method="get", type="stream")
    check(bool(events) and "EventNotificationAlert" in events[0], f"{tag}: alert stream part")


def with_pyhik(d, control):
    tag = f"pyhik {d['type']} {d['model']}"
    host, port = d["address"].rsplit(":", 1)
    cam = HikCamera(f"http://{host}", port=int(port), usr=d["username"], pwd=d["password"])
    try:
        check(bool(cam.get_id) and cam.get_id != 0, f"{tag}: device id read")
        check(bool(cam.get_name), f"{tag}: device name read")
        states = cam.current_event_states or {}
        check("Motion" in states, f"{tag}: Motion sensor from event triggers")
        cam.start_stream()
        deadline = time.time() + 5
        while not cam.stream_connected and time.time() < deadline:
            time.sleep(0.05)
        check(cam.stream_connected, f"{tag}: alert stream connected")
        time.sleep(0.3)
        emit(control, d["serial"], {"event_type": "motion", "channel": 1})
        # pyHik reads the stream line by line in 512-byte chunks: the next heartbeat
        # pushes the event through at the latest.
        active = False
        deadline = time.time() + 5
        while not active and time.time() < deadline:
            state = cam.fetch_attributes("Motion", 1)
            active = bool(state) and state[0] is True
            time.sleep(0.05)
        check(active, f"{tag}: motion event on the alert stream sets Motion channel 1 active")
    finally:
        cam.disconnect()


def main():
    devices = json.loads(sys.argv[1])
    control = sys.argv[2]
    for d in devices:
        if d["type"] not in ("ipc", "nvr"):
            continue
        try:
            with_hikvisionapi(d)
        except Exception as e:  # noqa: BLE001 - report every client failure as a check
            check(False, f"hikvisionapi {d['model']}: {e!r}")
        try:
            with_pyhik(d, control)
        except Exception as e:  # noqa: BLE001
            check(False, f"pyhik {d['model']}: {e!r}")
    print(f"{len(failures)} failed", flush=True)
    sys.stdout.flush()
    # pyHik's stream thread is not a daemon; leave without waiting for it.
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    main()
