// Reads the few BrainFlow input params the Knight uses from their JSON text,
// without a JSON library (the ABI passes plain text).
#pragma once

#include <string>

namespace knight
{
struct Params
{
    std::string serial_port;
    int timeout = 0;
};

/// Parses a flat JSON object; false (with `error`) if it is not one.
bool parse_params (const char *json, Params &out, std::string &error);
} // namespace knight
