using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SignalFunctions.Clicks;

/// <summary>
/// Where a page of clicks ended: the last row's (last_activity_at, id), and the order it was read
/// in, so the next page starts right after it however many clicks were written meanwhile. Opaque to
/// callers: base64url of "a|d", microseconds since 1970 and the id.
/// </summary>
public readonly partial record struct ClickCursor(DateTime LastActivity, long Id, bool Ascending)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{(Ascending ? 'a' : 'd')}{(LastActivity.ToUniversalTime() - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond}.{Id}")));

    public static ClickCursor? Decode(string text)
    {
        if (text.Length > 64 || !Base64Url.IsValid(text))
        {
            return null;
        }
        var match = Shape().Match(Encoding.ASCII.GetString(Base64Url.DecodeFromChars(text)));
        if (!match.Success
            || !long.TryParse(match.Groups[2].ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros)
            || !long.TryParse(match.Groups[3].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || micros < -DateTime.UnixEpoch.Ticks / TimeSpan.TicksPerMicrosecond
            || micros > (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond)
        {
            return null;
        }
        return new ClickCursor(DateTime.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond), id, match.Groups[1].ValueSpan[0] == 'a');
    }

    [GeneratedRegex(@"^([ad])(-?\d{1,18})\.(\d{1,19})$")]
    private static partial Regex Shape();
}
