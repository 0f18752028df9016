"""The OpenAI Images API contract for gpt-image-2: rules, prices, client and emulator.

Plain Python: nothing here imports Django.
"""
