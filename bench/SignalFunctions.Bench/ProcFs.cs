using System.Globalization;

namespace SignalFunctions.Bench;

/// <summary>CPU time and resident memory from /proc (Linux): who used the two cores, and how much memory the app holds.</summary>
public static class ProcFs
{
    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100.0;

    /// <summary>Fields of /proc/PID/stat after the command name: [0] is the state, [1] the parent pid, [11..14] utime, stime, cutime, cstime.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Ticks(string[] f, int index) => long.Parse(f[index], CultureInfo.InvariantCulture) / TicksPerSecond;

    /// <summary>User + system CPU seconds of one process (all its threads).</summary>
    public static double CpuSeconds(int pid) => StatFields(pid) is { } f ? Ticks(f, 11) + Ticks(f, 12) : 0;

    /// <summary>
    /// CPU seconds of a process and its children: live children read directly, exited ones through
    /// the parent's cutime/cstime. PostgreSQL's postmaster and its backends, for example.
    /// </summary>
    public static double TreeCpuSeconds(int pid)
    {
        if (StatFields(pid) is not { } parent)
        {
            return 0;
        }
        var total = Ticks(parent, 11) + Ticks(parent, 12) + Ticks(parent, 13) + Ticks(parent, 14);
        var parentText = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child)
                && StatFields(child) is { } f && f[1] == parentText)
            {
                total += Ticks(f, 11) + Ticks(f, 12);
            }
        }
        return total;
    }

    /// <summary>
    /// Busy and total CPU seconds of the whole machine, all cores (from /proc/stat), and the part spent
    /// in interrupts: over loopback that is mostly the network stack, which no process is charged for.
    /// </summary>
    public static (double Busy, double Interrupts, double Total) Machine()
    {
        var line = File.ReadLines("/proc/stat").First();
        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        var idle = v[3] + v[4];
        var total = v.Take(8).Sum();
        return ((total - idle) / TicksPerSecond, (v[5] + v[6]) / TicksPerSecond, total / TicksPerSecond);
    }

    /// <summary>VmRSS (now) or VmHWM (peak) of a process, in bytes; 0 when it is gone.</summary>
    public static long MemoryBytes(int pid, string field = "VmRSS")
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
