"""Sensors on a board's pins and buses (I2C, SPI, UART, 1-Wire, ADC), and a remote sensor."""
