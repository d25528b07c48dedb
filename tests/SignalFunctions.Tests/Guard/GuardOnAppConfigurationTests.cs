using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Flags;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Guard;

/// <summary>Two instances on App Configuration, each running the Guard timer every 2 seconds.</summary>
public sealed class GuardedInstances() : TwoInstances(refreshSeconds: 1, GuardKit.Settings("*/2 * * * * *"));

/// <summary>
/// The guard when the flags live in App Configuration, end to end: signal-events
/// at shadow on two instances, every secondary write failing, and the guard's step back written to
/// App Configuration itself, recorded, and obeyed by both instances. Timed, so in the Timing collection.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class GuardOnAppConfigurationTests(GuardedInstances fleet) : IClassFixture<GuardedInstances>
{
    private const int Requests = 25;

    private async Task<long> VersionAsync(AppProcess app) =>
        (await app.FlagsAsync()).GetProperty("stages").GetProperty(GuardKit.Migration).GetProperty("version").GetInt64();

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task The_guard_steps_a_failing_shadow_back_in_App_Configuration_and_both_instances_obey_within_the_refresh_interval()
    {
        var key = StageFeatureFlag.Key(GuardKit.Migration);
        var shadow = fleet.Store.SetFlag(GuardKit.Migration, Stage.Shadow);
        await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.Shadow, TimeSpan.FromSeconds(30))));
        var shadowVersion = await VersionAsync(fleet.A);
        await fleet.Db.FailSecondaryWritesAsync();
        for (var i = 0; i < Requests; i++)
        {
            await (i % 2 == 0 ? fleet.A : fleet.B).PostSignalAsync();
        }

        await GuardKit.UntilAsync(() => Task.FromResult(fleet.Store.StageIn(GuardKit.Migration) != (Stage.Shadow, 100)),
            "the Guard timer stepping shadow back in App Configuration", fleet.A, fleet.B);
        var looking = DateTimeOffset.UtcNow;
        var waits = await Task.WhenAll(fleet.Both.Select(app => app.WaitForStageAsync(Stage.DualWrite, TimeSpan.FromSeconds(30))));

        // One write, to App Configuration, conditional on the very flag the guard judged.
        Assert.Equal((Stage.DualWrite, 100), fleet.Store.StageIn(GuardKit.Migration));
        var put = Assert.Single(fleet.Store.Requests, r => r.Method == "PUT");
        Assert.Equal(($"/kv/{Uri.EscapeDataString(key)}", $"\"{shadow.ETag}\"", 200), (put.Target.Split('?')[0], put.IfMatch, put.Status));
        Assert.Contains(put.Credential, (string[])[TwoInstances.CredentialA, TwoInstances.CredentialB]);
        Assert.Equal("guard", fleet.Store.Find(key, null)!.Tags["updated-by"]);
        Assert.Equal(0L, await fleet.Db.ScalarAsync<long>("SELECT count(*) FROM stage_flags WHERE stage <> 'off'")); // not the store now

        // Both obey the stepped-back flag, the same version, within the refresh interval of its write.
        var obeyed = waits.Select(wait => looking + wait - put.At).ToList();
        Assert.All(obeyed, after => Assert.True(after < TimeSpan.FromSeconds(fleet.RefreshSeconds + 2),
            $"obeyed {after.TotalMilliseconds:0} ms after the write (each: {string.Join(", ", obeyed.Select(o => $"{o.TotalMilliseconds:0} ms"))})"));
        var versions = await Task.WhenAll(fleet.Both.Select(VersionAsync));
        Assert.NotEqual(shadowVersion, Assert.Single(versions.Distinct()));

        // The stage is written before the guard records its action.
        await GuardKit.UntilAsync(async () => await fleet.Db.ScalarAsync<long>("SELECT count(*) FROM guard_actions") > 0,
            "the guard recording its action", fleet.A, fleet.B);
        var verbSettings = GuardKit.Settings(FaultKit.NeverSchedule);
        verbSettings["AppConfig__ConnectionString"] = fleet.Store.ConnectionString;
        await GuardKit.AssertSteppedBackOnceAsync(fleet.Db, fleet.B, Requests, verbSettings);
        Assert.Contains("Guard: Guard signal-events: stepped back shadow (100%) -> dual_write", fleet.A.Output + fleet.B.Output, StringComparison.Ordinal);
        Assert.Single(fleet.Store.Requests, r => r.Method == "PUT");
    }
}
