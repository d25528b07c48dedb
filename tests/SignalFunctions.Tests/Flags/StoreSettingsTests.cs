using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SignalFunctions.Brands;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Plain settings under "SignalFunctions:" in App Configuration (guard thresholds,
/// reader switches) take effect at run time, through the server's own wiring.
/// </summary>
public sealed class StoreSettingsTests
{
    private static WebApplication Server(params (string Key, string Value)[] appSettings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(appSettings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))
            .Append(new("ConnectionStrings:Signal", "Host=127.0.0.1;Port=1;Database=never_opened")));
        builder.AddSignalServer();
        return builder.Build();
    }

    private static void Apply(WebApplication app, params (string Key, string Value)[] storeSettings) =>
        app.Services.GetRequiredService<FlagState>().Apply(new FlagSnapshot(
            new Dictionary<string, StageFlag>(), "app-configuration", DateTimeOffset.UtcNow,
            storeSettings.ToDictionary(s => s.Key, s => s.Value)));

    [Fact]
    public async Task A_guard_threshold_from_the_store_applies_at_once_and_falls_back_to_the_app_setting_when_deleted()
    {
        await using var app = Server(("Guard:MaxErrorRate", "0.05"));
        var guard = app.Services.GetRequiredService<LiveOptions<GuardOptions>>();
        Assert.Equal(0.05, guard.Value.MaxErrorRate);

        Apply(app, ("Guard:MaxErrorRate", "0.2"));
        Assert.Equal(0.2, guard.Value.MaxErrorRate);

        Apply(app);
        Assert.Equal(0.05, guard.Value.MaxErrorRate);
    }

    [Fact]
    public async Task An_invalid_value_in_the_store_is_rejected_and_the_last_valid_options_stay_in_force()
    {
        await using var app = Server();
        var guard = app.Services.GetRequiredService<LiveOptions<GuardOptions>>();
        Apply(app, ("Guard:MaxErrorRate", "0.2"));
        Assert.Equal(0.2, guard.Value.MaxErrorRate);

        Apply(app, ("Guard:MaxErrorRate", "7"), ("Guard:MinRequests", "5"));

        Assert.Equal(0.2, guard.Value.MaxErrorRate);
        Assert.NotEqual(5, guard.Value.MinRequests); // applied whole or not at all
    }

    [Fact]
    public async Task A_reader_switch_from_the_store_pins_that_readers_side_and_a_wrong_one_is_not_applied()
    {
        await using var app = Server();
        var reads = app.Services.GetRequiredService<LiveOptions<ReadOptions>>();
        Assert.Empty(reads.Value.Readers);

        Apply(app, ("Reads:dashboard", "new"));
        Assert.Equal(Side.New, reads.Value.Readers["dashboard"]);

        Apply(app, ("Reads:dashboard", "newest"));
        Assert.Equal(Side.New, reads.Value.Readers["dashboard"]);
    }
}
