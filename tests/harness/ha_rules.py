"""Our own encoding of Home Assistant's MQTT discovery rules, as of HA 2026.11.

Source: shared reference ``homeassistant-2026.md`` (which wins over ``homeassistant.md``); the
tables below (abbreviations, sensor units and state classes per device class, device classes,
supported platforms) are the values of HA 2026.11.0's ``mqtt/abbreviations.py``,
``mqtt/const.py`` and ``sensor/const.py``, transcribed as data. This is the primary check of
every discovery payload the node can produce; ``ha_check`` cross-checks with HA's own schemas.

    validate_device_discovery(topic, payload, compat=True) -> list[str]
    validate_entity_discovery(topic, payload, compat=True) -> list[str]

``payload`` is the bytes/str published (then duplicate JSON keys are caught) or a dict. The
result lists the problems (empty = valid). An empty payload (removal) is valid. ``compat=True``
(the default) also rejects what HA 2024.11–2026.10 would reject though 2026.11 accepts it
(``msg_exp_int``/``child_devices`` at the device level, ``vis``), and device-level ``qos``/``e``,
which is only inherited from 2026.5 on: the node must work with every HA that has device
discovery.
"""

from __future__ import annotations

import json
import re
from typing import Any

# -- tables (HA 2026.11.0) -----------------------------------------------------------------

_ABBREVIATIONS_TEXT = """
act_stat_t=activity_state_topic act_t=action_topic act_tpl=action_template
act_val_tpl=activity_value_template atype=automation_type av_tones=available_tones
avty=availability avty_mode=availability_mode avty_t=availability_topic
avty_tpl=availability_template b_tpl=blue_template bri_cmd_t=brightness_command_topic
bri_cmd_tpl=brightness_command_template bri_scl=brightness_scale
bri_stat_t=brightness_state_topic bri_tpl=brightness_template
bri_val_tpl=brightness_value_template cdevs=child_devices
cln_segmnts_cmd_t=clean_segments_command_topic
cln_segmnts_cmd_tpl=clean_segments_command_template clr_temp_cmd_t=color_temp_command_topic
clr_temp_cmd_tpl=color_temp_command_template clr_temp_k=color_temp_kelvin
clr_temp_stat_t=color_temp_state_topic clr_temp_tpl=color_temp_template
clr_temp_val_tpl=color_temp_value_template clrm_stat_t=color_mode_state_topic
clrm_val_tpl=color_mode_value_template cmd_off_tpl=command_off_template
cmd_on_tpl=command_on_template cmd_t=command_topic cmd_tpl=command_template cmps=components
cod_arm_req=code_arm_required cod_dis_req=code_disarm_required cod_form=code_format
cod_trig_req=code_trigger_required cont_type=content_type curr_hum_t=current_humidity_topic
curr_hum_tpl=current_humidity_template curr_temp_t=current_temperature_topic
curr_temp_tpl=current_temperature_template def_ent_id=default_entity_id dev=device
dev_cla=device_class dir_cmd_t=direction_command_topic dir_cmd_tpl=direction_command_template
dir_stat_t=direction_state_topic dir_val_tpl=direction_value_template
dock_cmd_t=dock_command_topic dock_cmd_tpl=dock_command_template dsp_prc=display_precision
e=encoding en=enabled_by_default ent_cat=entity_category ent_pic=entity_picture
evt_typ=event_types exp_aft=expire_after fan_mode_cmd_t=fan_mode_command_topic
fan_mode_cmd_tpl=fan_mode_command_template fan_mode_stat_t=fan_mode_state_topic
fan_mode_stat_tpl=fan_mode_state_template fanspd_lst=fan_speed_list flsh=flash
flsh_tlng=flash_time_long flsh_tsht=flash_time_short frc_upd=force_update
fx_cmd_t=effect_command_topic fx_cmd_tpl=effect_command_template fx_list=effect_list
fx_stat_t=effect_state_topic fx_tpl=effect_template fx_val_tpl=effect_value_template
g_tpl=green_template grp=group hs_cmd_t=hs_command_topic hs_cmd_tpl=hs_command_template
hs_stat_t=hs_state_topic hs_val_tpl=hs_value_template hum_cmd_t=target_humidity_command_topic
hum_cmd_tpl=target_humidity_command_template hum_stat_t=target_humidity_state_topic
hum_state_tpl=target_humidity_state_template ic=icon img_e=image_encoding img_t=image_topic
init=initial json_attr=json_attributes json_attr_t=json_attributes_topic
json_attr_tpl=json_attributes_template l_ver_t=latest_version_topic
l_ver_tpl=latest_version_template lrst_val_tpl=last_reset_value_template max=max
max_hum=max_humidity max_k=max_kelvin max_mirs=max_mireds max_temp=max_temp
migr_discvry=migrate_discovery min=min min_hum=min_humidity min_k=min_kelvin min_mirs=min_mireds
min_temp=min_temp mode=mode mode_cmd_t=mode_command_topic mode_cmd_tpl=mode_command_template
mode_stat_t=mode_state_topic mode_stat_tpl=mode_state_template modes=modes
msg_exp_int=message_expiry_interval name=name o=origin off_dly=off_delay
on_cmd_type=on_command_type ops=options opt=optimistic osc_cmd_t=oscillation_command_topic
osc_cmd_tpl=oscillation_command_template osc_stat_t=oscillation_state_topic
osc_val_tpl=oscillation_value_template p=platform pause_cmd_t=pause_command_topic
pause_mw_cmd_tpl=pause_command_template pct_cmd_t=percentage_command_topic
pct_cmd_tpl=percentage_command_template pct_stat_t=percentage_state_topic
pct_val_tpl=percentage_value_template pl=payload pl_arm_away=payload_arm_away
pl_arm_custom_b=payload_arm_custom_bypass pl_arm_home=payload_arm_home
pl_arm_nite=payload_arm_night pl_arm_vacation=payload_arm_vacation pl_avail=payload_available
pl_cln_sp=payload_clean_spot pl_cls=payload_close pl_disarm=payload_disarm pl_home=payload_home
pl_inst=payload_install pl_loc=payload_locate pl_lock=payload_lock
pl_not_avail=payload_not_available pl_not_home=payload_not_home pl_off=payload_off
pl_on=payload_on pl_open=payload_open pl_osc_off=payload_oscillation_off
pl_osc_on=payload_oscillation_on pl_paus=payload_pause pl_prs=payload_press
pl_ret=payload_return_to_base pl_rst=payload_reset pl_rst_hum=payload_reset_humidity
pl_rst_mode=payload_reset_mode pl_rst_pct=payload_reset_percentage
pl_rst_pr_mode=payload_reset_preset_mode pl_stop=payload_stop pl_stop_tilt=payload_stop_tilt
pl_strt=payload_start pl_toff=payload_turn_off pl_ton=payload_turn_on pl_trig=payload_trigger
pl_unlk=payload_unlock pos=reports_position pos_clsd=position_closed pos_open=position_open
pos_t=position_topic pos_tpl=position_template pow_cmd_t=power_command_topic
pow_cmd_tpl=power_command_template pr_mode_cmd_t=preset_mode_command_topic
pr_mode_cmd_tpl=preset_mode_command_template pr_mode_stat_t=preset_mode_state_topic
pr_mode_val_tpl=preset_mode_value_template pr_modes=preset_modes ptrn=pattern r_tpl=red_template
rel_s=release_summary rel_u=release_url ret=retain rgb_cmd_t=rgb_command_topic
rgb_cmd_tpl=rgb_command_template rgb_stat_t=rgb_state_topic rgb_val_tpl=rgb_value_template
rgbw_cmd_t=rgbw_command_topic rgbw_cmd_tpl=rgbw_command_template rgbw_stat_t=rgbw_state_topic
rgbw_val_tpl=rgbw_value_template rgbww_cmd_t=rgbww_command_topic
rgbww_cmd_tpl=rgbww_command_template rgbww_stat_t=rgbww_state_topic
rgbww_val_tpl=rgbww_value_template send_cmd_t=send_command_topic send_if_off=send_if_off
set_fan_spd_t=set_fan_speed_topic set_pos_t=set_position_topic set_pos_tpl=set_position_template
spd_rng_max=speed_range_max spd_rng_min=speed_range_min src_type=source_type
stat_cla=state_class stat_closing=state_closing stat_clsd=state_closed stat_jam=state_jammed
stat_locked=state_locked stat_locking=state_locking stat_off=state_off stat_on=state_on
stat_open=state_open stat_opening=state_opening stat_stopped=state_stopped stat_t=state_topic
stat_tpl=state_template stat_unlocked=state_unlocked stat_unlocking=state_unlocking
stat_val_tpl=state_value_template step=step stop_cmd_t=stop_command_topic
stop_cmd_tpl=stop_command_template strt_mw_cmd_t=start_mowing_command_topic
strt_mw_cmd_tpl=start_mowing_command_template stype=subtype
sug_dsp_prc=suggested_display_precision sup_clrm=supported_color_modes sup_dur=support_duration
sup_feat=supported_features sup_vol=support_volume_set
swing_h_mode_cmd_t=swing_horizontal_mode_command_topic
swing_h_mode_cmd_tpl=swing_horizontal_mode_command_template
swing_h_mode_stat_t=swing_horizontal_mode_state_topic
swing_h_mode_stat_tpl=swing_horizontal_mode_state_template swing_h_modes=swing_horizontal_modes
swing_mode_cmd_t=swing_mode_command_topic swing_mode_cmd_tpl=swing_mode_command_template
swing_mode_stat_t=swing_mode_state_topic swing_mode_stat_tpl=swing_mode_state_template
swing_modes=swing_modes t=topic temp_cmd_t=temperature_command_topic
temp_cmd_tpl=temperature_command_template temp_hi_cmd_t=temperature_high_command_topic
temp_hi_cmd_tpl=temperature_high_command_template temp_hi_stat_t=temperature_high_state_topic
temp_hi_stat_tpl=temperature_high_state_template temp_lo_cmd_t=temperature_low_command_topic
temp_lo_cmd_tpl=temperature_low_command_template temp_lo_stat_t=temperature_low_state_topic
temp_lo_stat_tpl=temperature_low_state_template temp_stat_t=temperature_state_topic
temp_stat_tpl=temperature_state_template temp_unit=temperature_unit
tilt_clsd_val=tilt_closed_value tilt_cmd_t=tilt_command_topic tilt_cmd_tpl=tilt_command_template
tilt_max=tilt_max tilt_min=tilt_min tilt_opnd_val=tilt_opened_value tilt_opt=tilt_optimistic
tilt_status_t=tilt_status_topic tilt_status_tpl=tilt_status_template tit=title trns=transition
tz=timezone uniq_id=unique_id unit_of_meas=unit_of_measurement url_t=url_topic
url_tpl=url_template val_tpl=value_template vis=visible_by_default
whit_cmd_t=white_command_topic whit_scl=white_scale xy_cmd_t=xy_command_topic
xy_cmd_tpl=xy_command_template xy_stat_t=xy_state_topic xy_val_tpl=xy_value_template
"""
_DEVICE_ABBREVIATIONS_TEXT = """
cdev=child_device cns=connections cu=configuration_url hw=hw_version ids=identifiers mdl=model
mdl_id=model_id mf=manufacturer name=name sa=suggested_area sn=serial_number sw=sw_version
"""
_ORIGIN_ABBREVIATIONS_TEXT = "name=name sw=sw_version url=support_url"


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


ABBREVIATIONS = _pairs(_ABBREVIATIONS_TEXT)
DEVICE_ABBREVIATIONS = _pairs(_DEVICE_ABBREVIATIONS_TEXT)
ORIGIN_ABBREVIATIONS = _pairs(_ORIGIN_ABBREVIATIONS_TEXT)

# Full keys the platform schemas accept that have no abbreviation.
_FULL_KEYS_WITHOUT_ABBREVIATION = frozenset(
    "platform qos retain schema brightness effect fan_modes precision temp_step".split()
)
KNOWN_KEYS = (
    frozenset(ABBREVIATIONS) | frozenset(ABBREVIATIONS.values()) | _FULL_KEYS_WITHOUT_ABBREVIATION
)

SUPPORTED_COMPONENTS = frozenset(
    "alarm_control_panel binary_sensor button camera climate cover date datetime device_automation"
    " device_tracker event fan humidifier image infrared lawn_mower light lock notify number scene"
    " siren select sensor switch tag text time update vacuum valve water_heater".split()
)
NON_ENTITY_PLATFORMS = frozenset(("device_automation", "tag"))
# Platforms HA 2024.11-2025.4 does not know yet (compat mode rejects them).
_NEWER_PLATFORMS = frozenset(("date", "datetime", "time", "infrared"))

DEVICE_TOP_LEVEL_KEYS = frozenset(
    "device origin components availability availability_mode availability_template"
    " availability_topic payload_available payload_not_available state_topic command_topic qos"
    " encoding message_expiry_interval child_devices".split()
)
_TOP_LEVEL_NEWER = frozenset(("message_expiry_interval", "child_devices"))  # 2026.6+ / 2026.11
_TOP_LEVEL_INHERITED_LATE = frozenset(("qos", "encoding"))  # inherited only from 2026.5
DEVICE_INFO_KEYS = frozenset(
    "identifiers connections manufacturer model model_id name hw_version serial_number sw_version"
    " via_device suggested_area configuration_url".split()
)
ORIGIN_KEYS = frozenset(("name", "sw_version", "support_url"))

# "<device class>: <unit> | <unit>"; "(none)" = no unit.
_SENSOR_UNITS_TEXT = """
absolute_humidity: g/m³ | mg/m³
apparent_power: VA | kVA | mVA
aqi: (none)
area: ac | cm² | ft² | ha | in² | km² | mi² | mm² | m² | yd²
atmospheric_pressure: Pa | atm | bar | cbar | hPa | inHg | inH₂O | kPa | mPa | mbar | mmHg | psi
battery: %
blood_glucose_concentration: mg/dL | mmol/L
carbon_monoxide: mg/m³ | ppb | ppm | μg/m³
carbon_dioxide: ppm
conductivity: S/cm | mS/cm | μS/cm
current: A | mA | μA
data_rate: B/s | GB/s | Gbit/s | GiB/s | KiB/s | MB/s | Mbit/s | MiB/s | bit/s | kB/s | kbit/s
data_size: B | EB | EiB | GB | Gbit | GiB | KiB | MB | Mbit | MiB | PB | PiB | TB | TiB | YB | YiB | ZB | ZiB | bit | kB | kbit
distance: cm | ft | in | km | m | mi | mm | nmi | yd
duration: d | h | min | ms | s | μs
energy: GJ | GWh | Gcal | J | MJ | MWh | Mcal | TWh | Wh | cal | kJ | kWh | kcal | mWh | thm
energy_distance: Wh/km | kWh/100km | km/kWh | mi/kWh
energy_storage: GJ | GWh | Gcal | J | MJ | MWh | Mcal | TWh | Wh | cal | kJ | kWh | kcal | mWh | thm
frequency: GHz | Hz | MHz | kHz | mHz
gas: CCF | L | MCF | ft³ | m³
humidity: %
illuminance: lx
irradiance: BTU/(h⋅ft²) | W/m²
moisture: %
nitrogen_dioxide: ppb | ppm | μg/m³
nitrogen_monoxide: ppb | μg/m³
nitrous_oxide: μg/m³
ozone: ppb | ppm | μg/m³
ph: (none)
pm1: μg/m³
pm10: μg/m³
pm25: μg/m³
pm4: μg/m³
power_factor: % | (none)
power: GW | MW | TW | W | kW | mW
precipitation: cm | in | mm
precipitation_intensity: in/d | in/h | mm/d | mm/h
pressure: Pa | atm | bar | cbar | hPa | inHg | inH₂O | kPa | mPa | mbar | mmHg | psi
radon: Bq/m³ | pCi/L
reactive_energy: kvarh | varh
reactive_power: kvar | mvar | var
signal_strength: dB | dBm
sound_pressure: dB | dBA
speed: Beaufort | ft/s | in/d | in/h | in/s | km/h | kn | m/min | m/s | mm/d | mm/h | mm/s | mph
sulphur_dioxide: ppb | μg/m³
temperature: K | °C | °F
temperature_delta: K | °C | °F
volatile_organic_compounds: mg/m³ | μg/m³
volatile_organic_compounds_parts: ppb | ppm
voltage: MV | V | kV | mV | μV
volume: CCF | L | MCF | fl. oz. | ft³ | gal | mL | m³
volume_flow_rate: L/h | L/min | L/s | ft³/min | gal/d | gal/h | gal/min | mL/s | m³/h | m³/min | m³/s
volume_storage: CCF | L | MCF | fl. oz. | ft³ | gal | mL | m³
water: CCF | L | MCF | ft³ | gal | m³
weight: g | kg | lb | mg | oz | st | μg
wind_direction: °
wind_speed: Beaufort | ft/s | in/s | km/h | kn | m/min | m/s | mm/s | mph
"""
_SENSOR_STATE_CLASSES_TEXT = """
absolute_humidity: measurement
apparent_power: measurement
aqi: measurement
area: measurement measurement_angle total total_increasing
atmospheric_pressure: measurement
battery: measurement
blood_glucose_concentration: measurement
carbon_monoxide: measurement
carbon_dioxide: measurement
conductivity: measurement
current: measurement
data_rate: measurement
data_size: measurement measurement_angle total total_increasing
date:
distance: measurement measurement_angle total total_increasing
duration: measurement measurement_angle total total_increasing
energy: total total_increasing
energy_distance: measurement
energy_storage: measurement
enum:
frequency: measurement
gas: total total_increasing
humidity: measurement
illuminance: measurement
irradiance: measurement
moisture: measurement
monetary: total
nitrogen_dioxide: measurement
nitrogen_monoxide: measurement
nitrous_oxide: measurement
ozone: measurement
ph: measurement
pm1: measurement
pm10: measurement
pm25: measurement
pm4: measurement
power_factor: measurement
power: measurement
precipitation: measurement measurement_angle total total_increasing
precipitation_intensity: measurement
pressure: measurement
radon: measurement
reactive_energy: total total_increasing
reactive_power: measurement
signal_strength: measurement
sound_pressure: measurement
speed: measurement
sulphur_dioxide: measurement
temperature: measurement
temperature_delta: measurement
timestamp:
uptime:
volatile_organic_compounds: measurement
volatile_organic_compounds_parts: measurement
voltage: measurement
volume: total total_increasing
volume_storage: measurement
volume_flow_rate: measurement
water: total total_increasing
weight: measurement total total_increasing
wind_direction: measurement_angle
wind_speed: measurement
"""


def _table(text: str, separator: str | None) -> dict[str, tuple[str | None, ...]]:
    table = {}
    for line in text.strip().splitlines():
        name, _, values = line.partition(":")
        items = values.split(separator) if values.strip() else []
        table[name] = tuple(None if v.strip() == "(none)" else v.strip() for v in items)
    return table


SENSOR_DEVICE_CLASS_UNITS = _table(_SENSOR_UNITS_TEXT, "|")
SENSOR_DEVICE_CLASS_STATE_CLASSES = _table(_SENSOR_STATE_CLASSES_TEXT, None)
SENSOR_DEVICE_CLASSES = frozenset(SENSOR_DEVICE_CLASS_STATE_CLASSES) | {"monetary"}
SENSOR_NON_NUMERIC_DEVICE_CLASSES = frozenset(("date", "enum", "timestamp", "uptime"))
SENSOR_STATE_CLASSES = frozenset(("measurement", "measurement_angle", "total", "total_increasing"))
STATE_CLASS_UNITS = {"measurement_angle": ("°",)}
# HA >= 2025.10 rewrites these spellings before the unit check.
AMBIGUOUS_UNITS = {
    "\u00b5Sv/h": "\u03bcSv/h",
    "\u00b5S/cm": "\u03bcS/cm",
    "\u00b5V": "\u03bcV",
    "\u00b5g/ft³": "\u03bcg/ft³",
    "\u00b5g/m³": "\u03bcg/m³",
    "\u00b5mol/s⋅m²": "\u03bcmol/s⋅m²",
    "\u00b5g": "\u03bcg",
    "\u00b5s": "\u03bcs",
    "mVAr": "mvar",
    "VAr": "var",
    "kVAr": "kvar",
    "VArh": "varh",
    "kVArh": "kvarh",
}
BINARY_SENSOR_DEVICE_CLASSES = frozenset(
    "battery battery_charging carbon_monoxide cold connectivity door garage_door gas glass_break"
    " heat light lock moisture motion moving occupancy opening plug power presence problem"
    " running safety smoke sound tamper update vibration window".split()
)
_BINARY_SENSOR_NEWER = frozenset(("glass_break",))  # 2026.10
BUTTON_DEVICE_CLASSES = frozenset(("identify", "restart", "update"))
SWITCH_DEVICE_CLASSES = frozenset(("outlet", "switch"))
NUMBER_DEVICE_CLASSES = SENSOR_DEVICE_CLASSES - SENSOR_NON_NUMERIC_DEVICE_CLASSES
UPDATE_DEVICE_CLASSES = frozenset(("firmware",))
CLIMATE_MODES = frozenset(("off", "heat", "cool", "heat_cool", "auto", "dry", "fan_only"))
LIGHT_SCHEMAS = frozenset(("basic", "json", "template"))
LIGHT_COLOR_MODES = frozenset("onoff brightness color_temp hs xy rgb rgbw rgbww white".split())
ENTITY_CATEGORIES = frozenset(("config", "diagnostic"))
AVAILABILITY_MODES = frozenset(("all", "any", "latest"))
# Platforms that take their name from the device class when `name` is absent.
_NAMED_BY_DEVICE_CLASS = frozenset(("sensor", "binary_sensor", "button", "number", "update"))

_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_DEVICE_TOPIC = re.compile(
    r"^(?P<prefix>.+?)/device/(?:(?P<node_id>[^/]+)/)?(?P<object_id>[^/]+)/config$"
)
_ENTITY_TOPIC = re.compile(
    r"^(?P<prefix>.+?)/(?P<component>\w+)/(?:(?P<node_id>[^/]+)/)?(?P<object_id>[^/]+)/config$"
)
# homeassistant.core.valid_entity_id: lowercase object id, no leading/trailing/double "_".
_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")


# -- parsing and expansion -------------------------------------------------------------------


def _parse(payload: Any, problems: list[str]) -> dict | None:
    """The payload as a dict (None: empty or unusable; problems says which)."""
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            problems.append("payload is not UTF-8")
            return None
    if not isinstance(payload, str):
        problems.append("payload must be bytes, str or dict, got %s" % type(payload).__name__)
        return None
    if payload == "":
        return None

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                problems.append("duplicate JSON key %r (a later one silently wins)" % key)
            seen[key] = value
        return seen

    try:
        data = json.loads(payload, object_pairs_hook=no_duplicates)
    except ValueError as e:
        problems.append("payload is not JSON: %s" % e)
        return None
    if not isinstance(data, dict):
        problems.append("payload must be a JSON object, got %s" % type(data).__name__)
        return None
    return data


def _expand(data: dict, table: dict[str, str], where: str, problems: list[str]) -> dict:
    """Short keys to full keys; both forms of one key is a problem."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        full = table.get(key, key)
        if full in out:
            problems.append("%s: %r given twice (short and full form)" % (where, full))
        out[full] = value
    return out


def _replace_base(config: dict) -> None:
    """HA's `~` rule: a leading or trailing `~` in a value of a key ending in `topic`."""
    base = config.pop("~", None)
    if not isinstance(base, str):
        return
    for key, value in list(config.items()):
        if key.endswith("topic") and isinstance(value, str):
            if value.startswith("~"):
                config[key] = base + value[1:]
            elif value.endswith("~"):
                config[key] = value[:-1] + base
    for item in config.get("availability") or ():
        if isinstance(item, dict) and isinstance(item.get("topic"), str):
            topic = item["topic"]
            if topic.startswith("~"):
                item["topic"] = base + topic[1:]
            elif topic.endswith("~"):
                item["topic"] = topic[:-1] + base


# -- small validators ------------------------------------------------------------------------


def _topic(value: Any, where: str, publish: bool, problems: list[str]) -> None:
    if not isinstance(value, str) or not value:
        problems.append("%s: topic must be a non-empty string, got %r" % (where, value))
        return
    if len(value.encode("utf-8")) > 65535 or "\x00" in value:
        problems.append("%s: invalid MQTT topic" % where)
    if publish and ("+" in value or "#" in value):
        problems.append("%s: wildcards cannot be used in a topic HA publishes to" % where)
    if not publish:
        levels = value.split("/")
        if any("+" in lv and lv != "+" for lv in levels) or (
            "#" in value and (levels[-1] != "#" or value.count("#") > 1)
        ):
            problems.append("%s: malformed wildcard in %r" % (where, value))


_JSON_ATTRIBUTE = re.compile(r"value_json\.([^\s|}()\[.]+)")


def _template(text: str, where: str, problems: list[str]) -> None:
    """The Jinja mistakes a builder makes: unbalanced braces, `value_json.<not a name>`."""
    if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
        problems.append("%s: unbalanced template braces in %r" % (where, text))
    for name in _JSON_ATTRIBUTE.findall(text):
        if not name.isidentifier():
            problems.append(
                "%s: value_json.%s is not valid Jinja: use value_json['%s']" % (where, name, name)
            )


def _string(value: Any, where: str, problems: list[str], none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        problems.append("%s must be a string, got %r" % (where, value))


def _bool(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, bool):
        problems.append("%s must be true or false, got %r" % (where, value))


def _int(value: Any, where: str, problems: list[str], minimum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append("%s must be an integer, got %r" % (where, value))
    elif minimum is not None and value < minimum:
        problems.append("%s must be >= %d, got %r" % (where, minimum, value))


def _is_number(value: Any, where: str, problems: list[str]) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append("%s must be a number, got %r" % (where, value))
        return False
    return True


def _availability(config: dict, where: str, problems: list[str]) -> None:
    if "availability" in config and "availability_topic" in config:
        problems.append("%s: availability and availability_topic exclude each other" % where)
    if "availability_topic" in config:
        _topic(config["availability_topic"], where + ".availability_topic", False, problems)
    if "availability" in config:
        items = config["availability"]
        items = items if isinstance(items, list) else [items]
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append("%s.availability[%d] must be an object" % (where, i))
                continue
            item = _expand(item, ABBREVIATIONS, "%s.availability[%d]" % (where, i), problems)
            if "topic" not in item:
                problems.append("%s.availability[%d]: topic is required" % (where, i))
            else:
                _topic(item["topic"], "%s.availability[%d].topic" % (where, i), False, problems)
    mode = config.get("availability_mode")
    if mode is not None and mode not in AVAILABILITY_MODES:
        problems.append("%s.availability_mode must be all, any or latest, got %r" % (where, mode))
    if "qos" in config and config["qos"] not in (0, 1, 2):
        problems.append("%s.qos must be 0, 1 or 2, got %r" % (where, config["qos"]))


def _device_info(dev: Any, where: str, problems: list[str], compat: bool) -> list[str]:
    """Checks a `device` block; returns its identifiers."""
    if not isinstance(dev, dict):
        problems.append("%s must be an object" % where)
        return []
    dev = _expand(dev, DEVICE_ABBREVIATIONS, where, problems)
    allowed = DEVICE_INFO_KEYS if compat else DEVICE_INFO_KEYS | {"child_device"}
    for key in dev:
        if key not in allowed:
            problems.append("%s: key %r not allowed (HA drops the config)" % (where, key))
    ids = dev.get("identifiers", [])
    ids = ids if isinstance(ids, list) else [ids]
    if not all(isinstance(i, str) and i for i in ids):
        problems.append("%s.identifiers must be strings" % where)
    cns = dev.get("connections", [])
    if not isinstance(cns, list) or not all(
        isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in cns
    ):
        problems.append("%s.connections must be a list of [type, value] pairs" % where)
        cns = []
    if not ids and not cns:
        problems.append("%s needs at least one identifier or connection" % where)
    if not isinstance(dev.get("name"), str) or not dev.get("name"):
        problems.append("%s.name missing: entity ids become none_... (send it every time)" % where)
    for key in DEVICE_INFO_KEYS - {"identifiers", "connections"}:
        if key in dev:
            _string(dev[key], "%s.%s" % (where, key), problems)
    return [i for i in ids if isinstance(i, str)]


def _origin(origin: Any, where: str, problems: list[str]) -> None:
    if not isinstance(origin, dict):
        problems.append("%s must be an object" % where)
        return
    origin = _expand(origin, ORIGIN_ABBREVIATIONS, where, problems)
    for key in origin:
        if key not in ORIGIN_KEYS:
            problems.append("%s: key %r not allowed" % (where, key))
    if not isinstance(origin.get("name"), str) or not origin.get("name"):
        problems.append("%s.name is required" % where)


# -- one entity config -----------------------------------------------------------------------


def _entity(platform: str, config: dict, where: str, problems: list[str], compat: bool) -> None:
    """Checks one expanded entity config (after `~` and shared options)."""
    for key in config:
        if key in ("object_id", "obj_id"):
            problems.append(
                "%s: object_id is ignored since HA 2026.4: use default_entity_id" % where
            )
        elif key not in KNOWN_KEYS:
            problems.append("%s: unknown key %r (HA ignores it: a typo?)" % (where, key))
        elif compat and key == "visible_by_default":
            problems.append("%s: visible_by_default is only known from HA 2026.6" % where)
    if platform in NON_ENTITY_PLATFORMS:
        return
    if "unique_id" not in config:
        problems.append("%s: unique_id is required" % where)
    else:
        _string(config["unique_id"], where + ".unique_id", problems)
    if "default_entity_id" in config:
        eid = config["default_entity_id"]
        if not isinstance(eid, str) or not _ENTITY_ID.match(eid):
            problems.append(
                "%s: default_entity_id must be a full entity id like %s.my_id, got %r"
                % (where, platform, eid)
            )
        elif eid.partition(".")[0] != platform:
            problems.append(
                "%s: default_entity_id %r has not the domain %r" % (where, eid, platform)
            )
    if "name" in config:
        _string(config["name"], where + ".name", problems, none_ok=True)
    elif not (platform in _NAMED_BY_DEVICE_CLASS and config.get("device_class")):
        problems.append(
            "%s: no name and no device class to name it after (HA calls it 'MQTT %s')"
            % (where, platform.replace("_", " ").title())
        )
    category = config.get("entity_category")
    if category is not None:
        if category not in ENTITY_CATEGORIES:
            problems.append(
                "%s.entity_category must be config or diagnostic, got %r" % (where, category)
            )
        elif category == "config" and platform in ("sensor", "binary_sensor"):
            problems.append("%s: a %s cannot have entity_category config" % (where, platform))
    for key in ("enabled_by_default", "retain", "optimistic", "force_update"):
        if key in config:
            _bool(config[key], "%s.%s" % (where, key), problems)
    if "encoding" in config:
        _string(config["encoding"], where + ".encoding", problems)
    for key, value in config.items():
        if key.endswith("topic"):
            _topic(value, "%s.%s" % (where, key), "command" in key, problems)
    _availability(config, where, problems)
    if "expire_after" in config:
        _int(config["expire_after"], where + ".expire_after", problems, minimum=1)
    for key, value in config.items():
        if key.endswith("template") and isinstance(value, str):
            _template(value, "%s.%s" % (where, key), problems)
    check = _PLATFORM_CHECKS.get(platform)
    if check is not None:
        check(config, where, problems, compat)


def _require(config: dict, keys: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in keys:
        if key not in config:
            problems.append("%s: %s is required" % (where, key))


def _sensor(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("state_topic",), where, problems)
    dclass = config.get("device_class")
    sclass = config.get("state_class")
    unit = config.get("unit_of_measurement")
    if isinstance(unit, str) and not unit.strip():
        unit = None  # HA >= 2025.10 drops an empty unit
    if isinstance(unit, str):
        unit = AMBIGUOUS_UNITS.get(unit, unit)
    if dclass is not None and dclass not in SENSOR_DEVICE_CLASSES:
        problems.append("%s: unknown sensor device_class %r" % (where, dclass))
    if sclass is not None and sclass not in SENSOR_STATE_CLASSES:
        problems.append("%s: unknown state_class %r" % (where, sclass))
    if "last_reset_value_template" in config and sclass != "total":
        problems.append("%s: last_reset_value_template needs state_class total" % where)
    if "options" in config:
        options = config["options"]
        if not isinstance(options, list) or not options:
            problems.append("%s: options must be a non-empty list" % where)
        if sclass or unit:
            problems.append("%s: options cannot go with state_class or a unit" % where)
        if dclass != "enum":
            problems.append("%s: options need device_class enum, got %r" % (where, dclass))
    if sclass in STATE_CLASS_UNITS and unit not in STATE_CLASS_UNITS[sclass]:
        problems.append("%s: unit %r is not valid with state_class %s" % (where, unit, sclass))
    if dclass in SENSOR_NON_NUMERIC_DEVICE_CLASSES:
        if unit is not None or sclass is not None:
            problems.append(
                "%s: device_class %s is not numeric: no unit or state_class" % (where, dclass)
            )
    elif dclass in SENSOR_DEVICE_CLASS_UNITS and unit not in SENSOR_DEVICE_CLASS_UNITS[dclass]:
        valid = ", ".join(str(u) for u in SENSOR_DEVICE_CLASS_UNITS[dclass])
        problems.append(
            "%s: unit %r is not valid for device_class %s (HA >= 2025.7 drops the entity);"
            " valid: %s" % (where, unit, dclass, valid)
        )
    if sclass is not None and dclass in SENSOR_DEVICE_CLASS_STATE_CLASSES:
        if sclass not in SENSOR_DEVICE_CLASS_STATE_CLASSES[dclass] and (
            dclass not in SENSOR_NON_NUMERIC_DEVICE_CLASSES
        ):
            problems.append(
                "%s: state_class %s is impossible for device_class %s" % (where, sclass, dclass)
            )
    if "suggested_display_precision" in config:
        _int(config["suggested_display_precision"], where + ".suggested_display_precision",
             problems, minimum=0)  # fmt: skip


def _binary_sensor(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("state_topic",), where, problems)
    dclass = config.get("device_class")
    if dclass is not None:
        if dclass not in BINARY_SENSOR_DEVICE_CLASSES:
            problems.append("%s: unknown binary_sensor device_class %r" % (where, dclass))
        elif compat and dclass in _BINARY_SENSOR_NEWER:
            problems.append("%s: device_class %s needs HA 2026.10" % (where, dclass))
    for key in ("unit_of_measurement", "state_class"):
        if key in config:
            problems.append("%s: a binary_sensor has no %s" % (where, key))
    if "off_delay" in config:
        _int(config["off_delay"], where + ".off_delay", problems, minimum=0)


def _classes(allowed: frozenset, kind: str) -> Any:
    def check(config: dict, where: str, problems: list[str]) -> None:
        dclass = config.get("device_class")
        if dclass is not None and dclass not in allowed:
            problems.append("%s: unknown %s device_class %r" % (where, kind, dclass))

    return check


_switch_classes = _classes(SWITCH_DEVICE_CLASSES, "switch")
_button_classes = _classes(BUTTON_DEVICE_CLASSES, "button")
_number_classes = _classes(NUMBER_DEVICE_CLASSES, "number")
_update_classes = _classes(UPDATE_DEVICE_CLASSES, "update")


def _switch(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic",), where, problems)
    _switch_classes(config, where, problems)


def _button(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic",), where, problems)
    _button_classes(config, where, problems)


def _number_platform(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic",), where, problems)
    _number_classes(config, where, problems)
    low, high = config.get("min", 1), config.get("max", 100)
    if _is_number(low, where + ".min", problems) and _is_number(high, where + ".max", problems):
        if high < low:
            problems.append("%s: max must be >= min" % where)
    step = config.get("step", 1)
    if _is_number(step, where + ".step", problems) and step < 0.001:
        problems.append("%s: step must be >= 0.001" % where)
    if config.get("mode", "auto") not in ("auto", "box", "slider"):
        problems.append("%s: mode must be auto, box or slider" % where)


def _select(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic", "options"), where, problems)
    options = config.get("options")
    if options is not None and (
        not isinstance(options, list) or not all(isinstance(o, str) for o in options)
    ):
        problems.append("%s: options must be a list of strings" % where)


def _text(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic",), where, problems)
    low, high = config.get("min", 0), config.get("max", 255)
    for key, value in (("min", low), ("max", high)):
        _int(value, "%s.%s" % (where, key), problems, minimum=0)
    if isinstance(low, int) and isinstance(high, int):
        if low > high:
            problems.append("%s: text min must be <= max" % where)
        if high > 255:
            problems.append("%s: text max must be <= 255" % where)
    if config.get("mode", "text") not in ("text", "password"):
        problems.append("%s: mode must be text or password" % where)
    if "pattern" in config:
        try:
            re.compile(config["pattern"])
        except (re.error, TypeError):
            problems.append("%s: pattern is not a valid regular expression" % where)


def _light(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("command_topic",), where, problems)
    schema = config.get("schema", "basic")
    if schema not in LIGHT_SCHEMAS:
        problems.append("%s: light schema must be basic, json or template" % where)
    if schema == "template":
        _require(config, ("command_on_template", "command_off_template"), where, problems)
    modes = config.get("supported_color_modes")
    if modes is not None:
        if schema != "json":
            problems.append("%s: supported_color_modes is for the json schema" % where)
        elif not isinstance(modes, list) or not modes or not set(modes) <= LIGHT_COLOR_MODES:
            problems.append("%s: supported_color_modes has an unknown mode" % where)
        elif len(modes) > 1 and ("onoff" in modes or "brightness" in modes):
            problems.append("%s: onoff/brightness must be the only color mode" % where)
    if "brightness_scale" in config:
        _int(config["brightness_scale"], where + ".brightness_scale", problems, minimum=1)


def _climate(config: dict, where: str, problems: list[str], compat: bool) -> None:
    modes = config.get("modes")
    if modes is not None and (not isinstance(modes, list) or not set(modes) <= CLIMATE_MODES):
        problems.append("%s: climate modes must be among %s" % (where, sorted(CLIMATE_MODES)))
    if config.get("temperature_unit", "C") not in ("C", "F"):
        problems.append("%s: temperature_unit must be C or F" % where)
    if "precision" in config and config["precision"] not in (0.1, 0.5, 1.0):
        problems.append("%s: precision must be 0.1, 0.5 or 1.0" % where)
    low, high = config.get("min_temp"), config.get("max_temp")
    if low is not None and high is not None:
        if _is_number(low, where + ".min_temp", problems) and _is_number(
            high, where + ".max_temp", problems
        ):
            if low >= high:
                problems.append("%s: min_temp must be below max_temp" % where)
    if "none" in (config.get("preset_modes") or ()):
        problems.append("%s: preset_modes must not include 'none'" % where)


def _update(config: dict, where: str, problems: list[str], compat: bool) -> None:
    _require(config, ("state_topic",), where, problems)
    _update_classes(config, where, problems)
    if "command_topic" in config and "payload_install" not in config:
        problems.append("%s: payload_install is needed with command_topic" % where)


_PLATFORM_CHECKS = {
    "sensor": _sensor,
    "binary_sensor": _binary_sensor,
    "switch": _switch,
    "button": _button,
    "number": _number_platform,
    "select": _select,
    "text": _text,
    "light": _light,
    "climate": _climate,
    "update": _update,
}


# -- the two entry points --------------------------------------------------------------------


def validate_device_discovery(topic: str, payload: Any, compat: bool = True) -> list[str]:
    """Problems of one device-based discovery message (empty list: HA would take it)."""
    problems: list[str] = []
    match = _DEVICE_TOPIC.match(topic)
    if not match:
        problems.append("topic %r is not <prefix>/device/[<node_id>/]<object_id>/config" % topic)
    else:
        for part in ("node_id", "object_id"):
            value = match.group(part)
            if value is not None and not _ID.match(value):
                problems.append("topic %s %r may only use [a-zA-Z0-9_-]" % (part, value))
    data = _parse(payload, problems)
    if data is None:
        return problems
    data = _expand(data, ABBREVIATIONS, "device payload", problems)
    if data.get("migrate_discovery") is True and len(data) == 1:
        return problems
    for key in data:
        if key not in DEVICE_TOP_LEVEL_KEYS:
            problems.append(
                "top-level key %r not allowed: HA drops the whole device (extra keys)" % key
            )
        elif compat and key in _TOP_LEVEL_NEWER:
            problems.append("top-level key %r is rejected by HA before 2026.6/2026.11" % key)
        elif compat and key in _TOP_LEVEL_INHERITED_LATE:
            problems.append(
                "top-level %r is inherited by components only from HA 2026.5: put it in each"
                " component" % key
            )
    if "device" not in data:
        problems.append("device is required")
    else:
        _device_info(data["device"], "device", problems, compat)
    if "origin" not in data:
        problems.append("origin is required (with name)")
    else:
        _origin(data["origin"], "origin", problems)
    _availability(data, "device payload", problems)
    for key in ("state_topic", "command_topic"):
        if key in data:
            _topic(data[key], key, key == "command_topic", problems)
    components = data.get("components")
    if components is None:
        if "child_devices" not in data:
            problems.append("components is required")
        return problems
    if not isinstance(components, dict):
        problems.append("components must be an object")
        return problems
    shared = {k: v for k, v in data.items() if k in _SHARED_OPTIONS}
    if compat:
        for key in _TOP_LEVEL_INHERITED_LATE | _TOP_LEVEL_NEWER:
            shared.pop(key, None)
    unique_ids: dict[str, str] = {}
    for cid, component in components.items():
        where = "components[%r]" % cid
        if not isinstance(cid, str) or not _ID.match(cid):
            problems.append("%s: component id may only use [a-zA-Z0-9_-]" % where)
        if not isinstance(component, dict):
            problems.append("%s must be an object" % where)
            continue
        component = _expand(component, ABBREVIATIONS, where, problems)
        platform = component.get("platform")
        if platform not in SUPPORTED_COMPONENTS:
            problems.append("%s: platform %r is not supported" % (where, platform))
            continue
        if compat and platform in _NEWER_PLATFORMS:
            problems.append("%s: platform %s needs a newer HA" % (where, platform))
        if len(component) == 1:
            continue  # {"p": ...} alone removes the component
        for key in ("device", "origin"):
            if key in component:
                problems.append("%s: %s belongs at the top level only" % (where, key))
        config = dict(shared)
        config.update(component)
        config.pop("platform")
        _replace_base(config)
        _entity(platform, config, where, problems, compat)
        uid = config.get("unique_id")
        if isinstance(uid, str):
            if uid in unique_ids:
                problems.append(
                    "%s: unique_id %r already used by %s" % (where, uid, unique_ids[uid])
                )
            unique_ids[uid] = where
    return problems


_SHARED_OPTIONS = frozenset(
    "availability availability_mode availability_template availability_topic command_topic"
    " encoding message_expiry_interval payload_available payload_not_available state_topic"
    " qos".split()
)


def validate_entity_discovery(topic: str, payload: Any, compat: bool = True) -> list[str]:
    """Problems of one single-component discovery message (HA before 2024.11 and later)."""
    problems: list[str] = []
    match = _ENTITY_TOPIC.match(topic)
    platform = None
    if not match or match.group("component") == "device":
        problems.append(
            "topic %r is not <prefix>/<platform>/[<node_id>/]<object_id>/config" % topic
        )
    else:
        platform = match.group("component")
        if platform not in SUPPORTED_COMPONENTS:
            problems.append("topic platform %r is not supported" % platform)
        for part in ("node_id", "object_id"):
            value = match.group(part)
            if value is not None and not _ID.match(value):
                problems.append("topic %s %r may only use [a-zA-Z0-9_-]" % (part, value))
    data = _parse(payload, problems)
    if data is None or platform not in SUPPORTED_COMPONENTS:
        return problems
    config = _expand(data, ABBREVIATIONS, "payload", problems)
    if config.get("migrate_discovery") is True and len(config) == 1:
        return problems
    if "platform" in config:
        problems.append("platform belongs to device discovery; the topic names it here")
    if "origin" in config:
        _origin(config.pop("origin"), "origin", problems)
    if "device" in config:
        _device_info(config.pop("device"), "device", problems, compat)
    elif platform not in NON_ENTITY_PLATFORMS:
        problems.append("device is missing: the entity gets no device (send it with a name)")
    _replace_base(config)
    _entity(platform, config, "payload", problems, compat)
    return problems


def validate_unique_ids(messages: list[tuple[str, Any]]) -> list[str]:
    """Across several discovery messages of one node: no unique_id used twice."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for topic, payload in messages:
        data = _parse(payload, [])
        if data is None:
            continue
        data = _expand(data, ABBREVIATIONS, topic, [])
        components = data.get("components")
        configs = (
            [(topic + " " + cid, c) for cid, c in components.items() if isinstance(c, dict)]
            if isinstance(components, dict)
            else [(topic, data)]
        )
        for where, config in configs:
            uid = _expand(config, ABBREVIATIONS, where, []).get("unique_id")
            if isinstance(uid, str):
                if uid in seen:
                    problems.append("unique_id %r used by %s and %s" % (uid, seen[uid], where))
                seen[uid] = where
    return problems
