"""The `intel` namespace as intel-variant-provider 0.0.3 (HEAD 9516bd2) emits it: `device_ip`."""

from __future__ import annotations

from collections.abc import Mapping

from wheelnext_jupyter.host.intel import IntelInfo
from wheelnext_jupyter.record import Record
from wheelnext_jupyter.variants.properties import VariantFeatureConfig

FORCE_DEVICE_IP = "INTEL_VARIANT_PROVIDER_FORCE_DEVICE_IP"
DEVICE_IP = "device_ip"

#: Known device IPs in the plugin's order, each with the base IP it is compatible with.
KNOWN_IPS: dict[str, str | None] = {
    "35.11.0": None,  # cri
    "35.10.4": None,  # nvl-p
    "30.5.4": "30.0.4",  # nvl-u, nvl-h
    "30.4.4": "30.0.4",  # nvl-s, nvl-hx, nvl-ul
    "30.3.1": "30.0.4",  # wcl
    "30.1.0": "30.0.4",  # ptl-u
    "30.0.4": None,  # ptl-h
    "20.4.4": "20.1.0",  # lnl-m
    "20.2.0": "20.1.0",  # bmg-g31
    "20.1.0": None,  # bmg-g21
    "12.74.4": None,  # arl-h
    "12.71.4": "12.70.4",  # mtl-h
    "12.70.4": None,  # mtl-u, arl-u, arl-s
    "12.60.7": None,  # pvc
    "12.57.0": "12.55.8",  # acm-g12
    "12.56.5": "12.55.8",  # acm-g11
    "12.55.8": None,  # acm-g10 (dg2)
    "12.10.0": None,  # dg1
    "12.4.0": None,  # adl-n
    "12.3.0": None,  # adl-p, rpl-p
    "12.2.0": None,  # adl-s, rpl-s
    "12.1.0": None,  # rkl
    "12.0.0": None,  # tgllp
}


class IntelProvider(Record):
    device_ips: tuple[str, ...]
    notes: tuple[str, ...] = ()

    # Class attributes, not fields: `Record` takes only annotated names for fields.
    namespace = "intel"
    plugin_apis = ("intel_variant_provider.plugin:IntelVariantPlugin",)
    deviations = (
        "Level Zero is loaded only when sysfs shows an Intel display controller",
        "problems are recorded in `notes` instead of being raised as Python warnings",
    )

    @classmethod
    def from_host(cls, info: IntelInfo, environ: Mapping[str, str]) -> IntelProvider:
        notes: list[str] = []
        forced = environ.get(FORCE_DEVICE_IP)
        candidates: list[str] = []
        if forced:
            candidates = [forced]  # one IP, no compatibility expansion (plugin behaviour)
        else:
            for gpu in info.gpus:
                compat = KNOWN_IPS.get(gpu.ip_version)
                candidates.extend([gpu.ip_version, *([compat] if compat else [])])
            if info.error:
                notes.append(f"Intel GPU runtime unavailable: {info.error}")
        ips: list[str] = []
        for ip in candidates:
            if ip not in KNOWN_IPS:
                notes.append(f"Intel device IP {ip} is not known to the plugin: left out")
            elif ip not in ips:
                ips.append(ip)
        return cls(tuple(ips), tuple(notes))

    def get_supported_configs(self) -> list[VariantFeatureConfig]:
        if not self.device_ips:
            return []
        return [VariantFeatureConfig(DEVICE_IP, self.device_ips, multi_value=True)]

    @classmethod
    def get_all_configs(cls) -> list[VariantFeatureConfig]:
        return [VariantFeatureConfig(DEVICE_IP, tuple(KNOWN_IPS), multi_value=True)]
