using Microsoft.Extensions.Options;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// Stage flags kept in Azure App Configuration: one feature flag per migration
/// (<see cref="StageFeatureFlag"/>), plus plain settings under <see cref="SettingsPrefix"/>, both
/// with the label <c>Flags__Label</c> (none when unset). Reads build a <see cref="FlagSnapshot"/>;
/// writes use If-Match so a stage is never set from a stale read.
/// </summary>
public sealed partial class AppConfigurationFlagStore(
    AppConfigurationClient client,
    LastKnownGood lastKnownGood,
    IOptions<FlagOptions> options,
    TimeProvider clock,
    ILogger<AppConfigurationFlagStore> logger) : IStageFlagStore
{
    public const string SourceName = "app-configuration";
    public const string SettingsPrefix = "SignalFunctions:";

    public string? Label { get; } = string.IsNullOrWhiteSpace(options.Value.Label) ? null : options.Value.Label;

    public Uri Endpoint => client.Endpoint;

    public KeyValueSelector FlagSelector => new(StageFeatureFlag.Key("*"), Label);

    public KeyValueSelector SettingsSelector => new(SettingsPrefix + "*", Label);

    /// <summary>
    /// Lists the flags (and, when <paramref name="withSettings"/>, the settings) with the page ETags
    /// of the last read: unchanged pages answer 304 and cost nothing more. Null when nothing changed.
    /// </summary>
    public async Task<StoreRead?> ReadAsync(StoreRead? previous, bool withSettings, CancellationToken ct)
    {
        var flags = await client.ListAsync(FlagSelector, previous?.FlagETags, ct);
        KeyValueListing? settings = null;
        if (withSettings || previous is null)
        {
            settings = await client.ListAsync(SettingsSelector, previous?.SettingsETags, ct);
        }
        var flagsChanged = !flags.Unchanged;
        var settingsChanged = settings is { Unchanged: false };
        if (previous is not null && !flagsChanged && !settingsChanged)
        {
            return null;
        }
        var snapshot = Build(
            flagsChanged ? flags.Items : null,
            settingsChanged ? settings!.Items : null,
            previous?.Snapshot, Label, string.Join(",", flags.PageETags), clock.GetUtcNow());
        foreach (var (key, reason) in snapshot.Rejected)
        {
            if (previous?.Snapshot.Rejected.GetValueOrDefault(key) != reason)
            {
                LogRejected(key, reason);
            }
        }
        return new StoreRead(snapshot, flags.PageETags, settings?.PageETags ?? previous?.SettingsETags);
    }

    /// <summary>
    /// A snapshot from listed key-values. <paramref name="flagItems"/> / <paramref name="settingItems"/>
    /// null: unchanged since <paramref name="previous"/>. A flag that is invalid or names an unknown
    /// stage is rejected whole and keeps its previous value (if it had one); so does a flag that
    /// disappeared, since a deleted flag says nothing about which stage to write.
    /// </summary>
    public static FlagSnapshot Build(
        IEnumerable<KeyValue>? flagItems, IEnumerable<KeyValue>? settingItems, FlagSnapshot? previous,
        string? label, string? etag, DateTimeOffset at)
    {
        var flags = new Dictionary<string, StageFlag>(previous?.Flags ?? new Dictionary<string, StageFlag>(), StringComparer.Ordinal);
        var rejected = new Dictionary<string, string>(StringComparer.Ordinal);
        if (flagItems is null)
        {
            rejected = new Dictionary<string, string>(previous?.Rejected ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in flagItems)
            {
                try
                {
                    var flag = StageFeatureFlag.Read(item);
                    flags[flag.Migration] = flag;
                    seen.Add(flag.Migration);
                }
                catch (FeatureFlagFormatException ex)
                {
                    rejected[item.Key] = ex.Reason;
                }
            }
            foreach (var migration in flags.Keys.Where(m => !seen.Contains(m)).ToList())
            {
                var key = StageFeatureFlag.Key(migration);
                rejected.TryAdd(key, "it is not in App Configuration (deleted?); keeping its last stage");
            }
        }
        var settings = settingItems is null
            ? previous?.Settings
            : settingItems.Where(item => item.Value is not null)
                .ToDictionary(item => item.Key[SettingsPrefix.Length..], item => item.Value!, StringComparer.Ordinal);
        return new FlagSnapshot(flags, SourceName, at, settings, label, etag, rejected);
    }

    /// <summary>
    /// A fresh read for the ops verbs and the timers. With App Configuration unreachable it falls
    /// back to the last-known-good copy in PostgreSQL (source "last-known-good"), so the engine's
    /// timers go on with the stages the fleet obeys.
    /// </summary>
    public async Task<FlagSnapshot> LoadAsync(CancellationToken ct)
    {
        var saved = await lastKnownGood.LoadAsync(Endpoint, Label, ct);
        try
        {
            var read = await ReadAsync(saved is null ? null : new StoreRead(saved.Snapshot, null, null), withSettings: true, ct);
            return read!.Snapshot;
        }
        catch (AppConfigurationException ex) when (saved is not null)
        {
            LogServingLastKnownGood(ex.Message);
            return saved.Snapshot;
        }
    }

    /// <summary>
    /// Writes the migration's flag with If-Match on the ETag just read (If-None-Match * when there is
    /// no flag yet). A change in between fails instead of overwriting it; a locked flag fails with
    /// "flag is locked in App Configuration". A flag the app rejects is replaced whole, and the
    /// change says what it replaced.
    /// </summary>
    public async Task<StageChange> SetStageAsync(string migration, Stage stage, int percent, string actor, StageFlag? expected, CancellationToken ct)
    {
        var key = StageFeatureFlag.Key(migration);
        var existing = await client.GetAsync(key, Label, ct);
        FeatureFlag? existingFlag = null;
        var (oldStage, oldPercent) = (Stage.Off, 0);
        string? replaced = null;
        if (existing is not null)
        {
            try
            {
                var parsed = FeatureFlagKeys.Parse(key, existing.Value);
                (oldStage, oldPercent) = StageFeatureFlag.StageOf(key, parsed);
                existingFlag = parsed;
            }
            catch (FeatureFlagFormatException ex)
            {
                // A flag the app rejects (an SDK helper dropped its variants and allocation, or a
                // foreign value sits at the key) names no stage to compare with what was read:
                // writing a valid flag over it is how an operator repairs it. The app still obeys
                // the last good stage, so that is the stage this change moves from.
                replaced = ex.Reason;
                (oldStage, oldPercent) = expected is null ? (Stage.Off, 0) : (expected.Stage, expected.Percent);
                LogOverwritingRejected(key, ex.Reason);
            }
        }
        if (replaced is null)
        {
            EnsureUnchanged(migration, expected, existing, oldStage, oldPercent);
        }
        if (existing is { Locked: true })
        {
            throw Locked(key);
        }
        var flag = StageFeatureFlag.Create(migration, stage, percent, existingFlag);
        var tags = new Dictionary<string, string?>(existing?.Tags ?? new Dictionary<string, string?>()) { ["updated-by"] = actor };
        KeyValue written;
        try
        {
            written = await client.SetAsync(
                new KeyValueWrite(key, Label, FeatureFlagKeys.Serialize(flag), FeatureFlagKeys.ContentType, tags),
                existing is null ? WriteCondition.Absent : WriteCondition.Matching(existing.ETag), ct);
        }
        catch (AppConfigurationLockedException)
        {
            throw Locked(key);
        }
        catch (AppConfigurationConcurrencyException)
        {
            // The If-Match on the ETag just read: a real writer in between wins, even over a rejected flag.
            throw new StageFlagConflictException(migration, $"{key} changed in App Configuration while it was being written; its ETag no longer matches");
        }
        var version = StageFeatureFlag.VersionOf(written);
        return new StageChange(migration, oldStage, oldPercent, stage, percent, version, replaced);
    }

    // Version (the ETag's hash), stage and share: the flag as it was read. The If-Match below
    // covers the rest, from this GET to the write.
    private static void EnsureUnchanged(string migration, StageFlag? expected, KeyValue? existing, Stage stage, int percent)
    {
        if (existing is null)
        {
            if (expected is not null)
            {
                throw new StageFlagConflictException(migration, "it was deleted from App Configuration");
            }
            return;
        }
        var version = StageFeatureFlag.VersionOf(existing);
        if (expected is null)
        {
            throw new StageFlagConflictException(migration, "it was created in App Configuration meanwhile");
        }
        if (expected.Version != version || expected.Stage != stage || expected.Percent != percent)
        {
            throw new StageFlagConflictException(migration,
                $"{expected.Stage.Name()} ({expected.Percent}%) was read, it is {stage.Name()} ({percent}%) as of {existing.LastModified:O} now");
        }
    }

    private InvalidOperationException Locked(string key) => new(
        $"{key}{(Label is null ? "" : $" (label {Label})")}: flag is locked in App Configuration; unlock it there (or ask who locked it) and run the command again.");

    [LoggerMessage(Level = LogLevel.Error, Message = "Stage flag {Key} is rejected and keeps its previous value: {Reason}")]
    private partial void LogRejected(string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage flag {Key} was rejected ({Reason}); writing a valid flag over it")]
    private partial void LogOverwritingRejected(string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "App Configuration is unreachable ({Error}); using the last-known-good flags from PostgreSQL")]
    private partial void LogServingLastKnownGood(string error);
}
