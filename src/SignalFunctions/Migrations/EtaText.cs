namespace SignalFunctions.Migrations;

public static class EtaText
{
    /// <summary>How long is left, as people read it: 01:02:03 within a day, "3d 4h" beyond (hh would wrap at 24).</summary>
    public static string Of(TimeSpan? eta) => eta switch
    {
        null => "?",
        { } e when e.TotalDays >= 1 => $"{(int)e.TotalDays}d {e.Hours}h",
        { } e => e.ToString(@"hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture),
    };
}
