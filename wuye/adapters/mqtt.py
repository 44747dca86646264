"""MQTT clients (paho-mqtt) as the platform uses them: QoS 1, persistent sessions, backoff.

``WUYE_MQTT_URL`` is ``mqtt://host:port`` (or ``embedded`` for the in-process
broker of ``wuye run``). Subscribers use a fixed client id with
``clean_session=False``, so the broker keeps their subscriptions and queues
QoS 1 messages while they are away; publishers keep unacknowledged QoS 1
messages and resend them after reconnecting. Reconnects back off from 0.5 s
to 30 s. The ingest acknowledges by hand (``manual_ack``), after its commit,
and scales out over a shared subscription (:func:`shared`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from wuye.platform.settings import EMBEDDED, Settings

QOS = 1
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30


def broker_address(url: str, settings: Settings | None = None) -> tuple[str, int]:
    """(host, port) of ``url``; ``embedded`` is the in-process broker's port."""
    if url == EMBEDDED:
        port = settings.embedded_mqtt_port if settings else 18830
        return "127.0.0.1", port
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (expected mqtt://host:port)")
    return parsed.hostname, parsed.port or 1883


def shared(group: str, topic_filter: str) -> str:
    """An MQTT shared subscription: the broker hands each message to one member of ``group``.

    ``$share/{group}/{filter}`` is MQTT 5's syntax (4.8.2); Mosquitto and EMQX
    accept it from MQTT 3.1.1 clients too.
    """
    if not group or "/" in group or "+" in group or "#" in group:
        raise ValueError(f"not a share group name: {group!r}")
    return f"$share/{group}/{topic_filter}"


def make_client(
    client_id: str, *, persistent: bool = True, manual_ack: bool = False
) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)  # type: ignore[arg-type]
    client.max_queued_messages_set(0)  # keep every unacknowledged QoS 1 message
    client.max_inflight_messages_set(1000)
    return client


class Subscriber:
    """A persistent QoS 1 subscription handing every message to ``on_message(topic, payload)``.

    With ``manual_ack`` the handler gets ``(topic, payload, mid)`` and the
    message stays unacknowledged until :meth:`ack` is called with its ``mid``
    (``mid`` is 0 for a QoS 0 message, which needs no acknowledgement).
    """

    def __init__(
        self,
        url: str,
        topic_filter: str,
        on_message: Callable[..., None],
        *,
        client_id: str,
        settings: Settings | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.host, self.port = broker_address(url, settings)
        self.topic_filter = topic_filter
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.connects = 0
        self.client = make_client(client_id, manual_ack=manual_ack)
        handler = on_message

        if manual_ack:

            def _on_message(_client, _userdata, message) -> None:  # noqa: ANN001
                handler(message.topic, message.payload, message.mid if message.qos else 0)

        else:

            def _on_message(_client, _userdata, message) -> None:  # noqa: ANN001
                handler(message.topic, message.payload)

        def _on_connect(client, _userdata, _flags, reason_code, _properties) -> None:  # noqa: ANN001
            if reason_code.is_failure:
                return
            # A persistent session keeps the subscription, but subscribing again is
            # harmless and covers a broker that lost its state.
            client.subscribe(self.topic_filter, qos=QOS)
            self.connects += 1
            self.connected.set()

        def _on_disconnect(*_args) -> None:  # noqa: ANN002
            self.connected.clear()

        self.client.on_message = _on_message
        self.client.on_connect = _on_connect
        self.client.on_disconnect = _on_disconnect
        self.client.on_subscribe = lambda *_a: self.subscribed.set()

    def ack(self, mids: Iterable[int]) -> None:
        """Acknowledge QoS 1 messages (PUBACK), in the order they were received."""
        ack = self.client.ack
        for mid in mids:
            ack(mid, QOS)

    def start(self, timeout: float = 10.0) -> Subscriber:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not (self.connected.wait(timeout) and self.subscribed.wait(timeout)):
            self.stop()
            raise ConnectionError(f"MQTT broker at {self.host}:{self.port} did not answer")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Publisher:
    """A QoS 1 publisher that survives broker restarts without losing a message."""

    def __init__(self, url: str, *, client_id: str, settings: Settings | None = None) -> None:
        self.host, self.port = broker_address(url, settings)
        self.client = make_client(client_id)
        self.connected = threading.Event()
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_disconnect = lambda *_a: self.connected.clear()

    def start(self, timeout: float = 10.0) -> Publisher:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            self.stop()
            raise ConnectionError(f"MQTT broker at {self.host}:{self.port} did not answer")
        return self

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=QOS)

    def unacknowledged(self) -> int:
        return len(self.client._out_messages)  # noqa: SLF001 - paho exposes no public count

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
