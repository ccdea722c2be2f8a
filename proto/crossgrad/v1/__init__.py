"""crossgrad.v1: code generated from crossgrad.proto by proto/generate.py. Do not edit.

Imported only by the two converters: crossgrad.server.wire and crossgrad.client.wire.
"""
