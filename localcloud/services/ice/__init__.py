"""localcloud's ICE: text-to-speech audio-produce jobs written to localcloud's OSS."""

from localcloud.services.ice.service import IceService

__all__ = ["IceService"]
