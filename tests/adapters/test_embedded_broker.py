"""The embedded broker that `make run` starts carries QoS 1 messages end to end."""

from __future__ import annotations

import socket
import threading

import paho.mqtt.client as mqtt

from tests.serving import free_port as _free_port
from wuye.adapters.broker import EmbeddedBroker


def test_embedded_broker_delivers_a_qos1_message():
    broker = EmbeddedBroker(port=_free_port()).start()
    received: list[bytes] = []
    done = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="probe")

    def on_message(_c, _u, message):
        received.append(message.payload)
        done.set()

    client.on_message = on_message
    try:
        client.connect(broker.host, broker.port)
        client.loop_start()
        client.subscribe("wuye/t1/e1/d1/telemetry", qos=1)
        client.publish("wuye/t1/e1/d1/telemetry", b"\x01\x02", qos=1).wait_for_publish(5)
        assert done.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()
        broker.stop()
    assert received == [b"\x01\x02"]


def test_embedded_broker_reports_a_taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        broker = EmbeddedBroker(port=port)
        try:
            broker.start(timeout=5)
        except RuntimeError as exc:
            assert str(port) in str(exc)
        else:  # pragma: no cover - only if the OS let two listeners share the port
            broker.stop()
            raise AssertionError("a taken port must be reported")
