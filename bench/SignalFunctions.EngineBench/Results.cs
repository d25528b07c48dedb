using System.Globalization;
using System.Text;

namespace SignalFunctions.EngineBench;

/// <summary>The run's tables, targets and checks, as markdown for the console and BENCHMARKS.md.</summary>
internal sealed class Results
{
    private readonly StringBuilder _text = new();
    private readonly List<(string What, bool Held)> _checks = [];
    private readonly List<(string What, bool Met)> _targets = [];

    public bool AllHeld => _checks.All(c => c.Held) && _targets.All(t => t.Met);

    public void Line(string line = "") => _text.AppendLine(line);

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        _text.AppendLine("| " + string.Join(" | ", header) + " |");
        _text.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var row in rows)
        {
            _text.AppendLine("| " + string.Join(" | ", row) + " |");
        }
        _text.AppendLine();
    }

    /// <summary>A correctness check: the figures mean nothing if one fails.</summary>
    public bool Check(string what, bool held)
    {
        _checks.Add((what, held));
        Console.Error.WriteLine($"  check: {what}: {(held ? "yes" : "NO")}");
        return held;
    }

    /// <summary>A performance target of the issue; returns the verdict for the table.</summary>
    public string Target(string what, bool met)
    {
        _targets.Add((what, met));
        return met ? "met" : "**missed**";
    }

    public override string ToString()
    {
        var all = new StringBuilder(_text.ToString());
        all.AppendLine("Targets: " + string.Join("; ", _targets.Select(t => $"{t.What} {(t.Met ? "met" : "MISSED")}")));
        all.AppendLine();
        all.AppendLine("Checks: " + string.Join("; ", _checks.Select(c => $"{c.What} {(c.Held ? "yes" : "NO")}")));
        return all.ToString();
    }

    public static string N(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
}
