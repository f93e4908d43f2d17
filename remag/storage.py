"""Static files storage for production: WhiteNoise's compressed, hashed copies, forgiving
of a missing ``collectstatic``.

Django's manifest storage answers every page that links an asset with a server error
until ``collectstatic`` has written the manifest and the copies (and even with
``manifest_strict = False`` it then tries to hash the missing copy). Here a name the
manifest does not know stays as it is; WhiteNoise serves it from the app's own files
(``WHITENOISE_USE_FINDERS``), uncached. ``collectstatic`` at build or install time
(``make install``, the image) still gives hashed names and far-future caching.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: the copy to hash does not exist
            return name
