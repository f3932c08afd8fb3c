"""Reads a package's license from its metadata and decides whether it is permissive.

Permissive: MIT, BSD, Apache-2.0, ISC, PSF, 0BSD, Unlicense, CC0, Zlib, BlueOak. A
copyleft license (GPL, LGPL, AGPL, MPL, EPL, …) is accepted only as one option of an
OR expression that also offers a permissive one. Anything unknown is left out.
"""

import re

PERMISSIVE = re.compile(
    r'\bMIT\b|\bBSD\b|Apache|\bISC\b|\bPSF\b|Python Software Foundation|Python-2\.0|0BSD|Unlicense|\bCC0\b|Zlib|BlueOak|'
    r'Permission is hereby granted, free of charge|Redistribution and use in source and binary forms',
    re.I)
COPYLEFT = re.compile(r'GPL|\bMPL\b|Mozilla Public|\bEPL\b|Eclipse Public|\bCDDL\b|\bEUPL\b|Commons Clause|SSPL|Proprietary|\bBUSL\b', re.I)
CLASSIFIER_LICENSES = {
    'MIT License': 'MIT',
    'BSD License': 'BSD',
    'Apache Software License': 'Apache-2.0',
    'ISC License (ISCL)': 'ISC',
    'Python Software Foundation License': 'PSF-2.0',
    'The Unlicense (Unlicense)': 'Unlicense',
    'zlib/libpng License': 'Zlib',
}


def permissive_license(license: str) -> bool:
    if not license or not PERMISSIVE.search(license):
        return False
    if COPYLEFT.search(license):
        return bool(re.search(r'\bOR\b', license)) and any(PERMISSIVE.search(part) and not COPYLEFT.search(part) for part in re.split(r'\bOR\b', license))
    return True


def _summarise_text(text: str) -> str:
    """A License field sometimes holds the whole license text: name the license it is."""
    if len(text) <= 80:
        return text.strip()
    if re.search(r'Permission is hereby granted, free of charge', text):
        return 'MIT'
    if re.search(r'Apache License', text):
        return 'Apache-2.0'
    if re.search(r'Redistribution and use in source and binary forms', text):
        return 'BSD'
    if COPYLEFT.search(text):
        return 'copyleft text'
    return ''


def python_distribution_license(metadata) -> str:
    expression = metadata.get('License-Expression')
    if expression:
        return expression.strip()
    classifiers = [c.split(' :: ')[-1] for c in (metadata.get_all('Classifier') or []) if c.startswith('License ::')]
    named = sorted({CLASSIFIER_LICENSES[c] for c in classifiers if c in CLASSIFIER_LICENSES})
    field = _summarise_text(metadata.get('License') or '')
    others = [c for c in classifiers if c not in CLASSIFIER_LICENSES]
    if others and not named:
        return ' AND '.join(others)
    if named:
        return ' OR '.join(named) if len(named) > 1 else named[0]
    return field


def npm_package_license(manifest: dict) -> str:
    value = manifest.get('license')
    if isinstance(value, dict):
        value = value.get('type')
    if not value and isinstance(manifest.get('licenses'), list):
        value = ' OR '.join(str(item.get('type', '')) if isinstance(item, dict) else str(item) for item in manifest['licenses'])
    return str(value or '').strip()
