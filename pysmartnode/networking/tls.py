"""TLS settings for the MQTT client, from the MQTT_TLS_* options."""


def ssl_params(config, host):
    """The client's ssl_params for MQTT_TLS_CA/CERT/KEY/INSECURE; host names the broker."""
    params = {"server_hostname": host}
    if config.MQTT_TLS_CA:
        # Read here rather than by path: DER works on every runtime, PEM is not parsed by
        # every MicroPython build
        with open(config.MQTT_TLS_CA, "rb") as f:
            data = f.read()
        if data[:5] == b"-----":
            from mqtt_as.tls import pem_to_der

            data = pem_to_der(data)
        params["cadata"] = data
    if config.MQTT_TLS_CERT:
        params["certfile"] = config.MQTT_TLS_CERT
        params["keyfile"] = config.MQTT_TLS_KEY
    if config.MQTT_TLS_INSECURE:
        import ssl

        params["cert_reqs"] = ssl.CERT_NONE
    return params
