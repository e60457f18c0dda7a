#include "params_json.h"

#include <cctype>
#include <cstdlib>

namespace knight
{
namespace
{
struct Cursor
{
    const char *p;

    void ws ()
    {
        while (*p && std::isspace (static_cast<unsigned char> (*p)))
        {
            p++;
        }
    }
    bool eat (char c)
    {
        ws ();
        if (*p != c)
        {
            return false;
        }
        p++;
        return true;
    }
    // A JSON string with the common escapes; \u is kept only for ASCII.
    bool string (std::string &s)
    {
        if (!eat ('"'))
        {
            return false;
        }
        s.clear ();
        while (*p && *p != '"')
        {
            char c = *p++;
            if (c != '\\')
            {
                s.push_back (c);
                continue;
            }
            char e = *p++;
            switch (e)
            {
                case 'n':
                    s.push_back ('\n');
                    break;
                case 't':
                    s.push_back ('\t');
                    break;
                case 'r':
                    s.push_back ('\r');
                    break;
                case 'b':
                    s.push_back ('\b');
                    break;
                case 'f':
                    s.push_back ('\f');
                    break;
                case 'u':
                {
                    char hex[5] = {0};
                    for (int i = 0; i < 4; i++)
                    {
                        if (!std::isxdigit (static_cast<unsigned char> (*p)))
                        {
                            return false;
                        }
                        hex[i] = *p++;
                    }
                    long v = std::strtol (hex, nullptr, 16);
                    s.push_back (v < 128 ? static_cast<char> (v) : '?');
                    break;
                }
                case '\0':
                    return false;
                default:
                    s.push_back (e);
            }
        }
        return eat ('"');
    }
    // Skips a scalar value (number, true, false, null), returning its text.
    std::string scalar ()
    {
        ws ();
        const char *b = p;
        while (*p && *p != ',' && *p != '}' && !std::isspace (static_cast<unsigned char> (*p)))
        {
            p++;
        }
        return std::string (b, p);
    }
};
} // namespace

bool parse_params (const char *json, Params &out, std::string &error)
{
    if (json == nullptr)
    {
        return true;
    }
    Cursor c {json};
    if (!c.eat ('{'))
    {
        error = "input params are not a JSON object";
        return false;
    }
    if (c.eat ('}'))
    {
        return true;
    }
    do
    {
        std::string key;
        if (!c.string (key) || !c.eat (':'))
        {
            error = "malformed input params JSON";
            return false;
        }
        c.ws ();
        if (*c.p == '"')
        {
            std::string value;
            if (!c.string (value))
            {
                error = "malformed string for " + key;
                return false;
            }
            if (key == "serial_port")
            {
                out.serial_port = value;
            }
        }
        else
        {
            std::string value = c.scalar ();
            if (key == "timeout")
            {
                out.timeout = std::atoi (value.c_str ());
            }
        }
    } while (c.eat (','));
    if (!c.eat ('}'))
    {
        error = "malformed input params JSON (expected '}')";
        return false;
    }
    return true;
}
} // namespace knight
