"""TLS settings for the MQTT client, from the MQTT_TLS_* options."""


def pem_to_der(text):
    """The first certificate of a PEM text, as DER bytes (MicroPython's TLS reads only DER)."""
    from binascii import a2b_base64

    begin = text.find("-----BEGIN")
    if begin < 0:
        raise ValueError("no PEM certificate found (-----BEGIN missing)")
    start = text.find("\n", begin) + 1
    end = text.find("-----END", start)
    if start <= 0 or end < 0:
        raise ValueError("the PEM certificate is cut short (-----END missing)")
    return a2b_base64("".join(text[start:end].split()))


def ssl_params(config, host):
    """The client's ssl_params for MQTT_TLS_CA/CERT/KEY/INSECURE; host names the broker."""
    params = {"server_hostname": host}
    if config.MQTT_TLS_CA:
        # Read here rather than by path: DER works on every runtime, PEM is not parsed by
        # every MicroPython build
        with open(config.MQTT_TLS_CA, "rb") as f:
            data = f.read()
        params["cadata"] = pem_to_der(data.decode()) if data[:5] == b"-----" else data
    if config.MQTT_TLS_CERT:
        params["certfile"] = config.MQTT_TLS_CERT
        params["keyfile"] = config.MQTT_TLS_KEY
    if config.MQTT_TLS_INSECURE:
        import ssl

        params["cert_reqs"] = ssl.CERT_NONE
    return params
