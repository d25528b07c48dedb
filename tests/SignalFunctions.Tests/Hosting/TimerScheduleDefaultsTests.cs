using System.Text.Json;
using System.Text.RegularExpressions;
using NCrontab;
using SignalFunctions.Hosting;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// The host refuses a timer whose {Name}Schedule setting is missing, so its default lives where
/// settings do: the local sample (./run.sh reads it) and infra/. Both give every timer, alike.
/// </summary>
public sealed partial class TimerScheduleDefaultsTests
{
    [Fact]
    public void The_sample_settings_and_infra_give_every_timer_the_same_valid_schedule()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values");
        var infra = InfraSchedule().Matches(File.ReadAllText(Path.Combine(Repo.Root, "infra", "variables.tf")))
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["schedule"].Value);

        Assert.Equal(6, TimerFunctions.Names.Count);
        foreach (var timer in TimerFunctions.Names)
        {
            var setting = $"{timer}Schedule";
            Assert.True(values.TryGetProperty(setting, out var local), $"local.settings.sample.json has no {setting}");
            Assert.True(infra.TryGetValue(setting, out var deployed), $"infra/variables.tf timer_schedules has no {setting}");
            Assert.Equal(local.GetString(), deployed);
            Assert.NotNull(CrontabSchedule.TryParse(deployed, new CrontabSchedule.ParseOptions { IncludingSeconds = true }));
        }
        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
    }

    [GeneratedRegex("""^\s*(?<name>\w+Schedule)\s*=\s*"(?<schedule>[^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex InfraSchedule();
}
