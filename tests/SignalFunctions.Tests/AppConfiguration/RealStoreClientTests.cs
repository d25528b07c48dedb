namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// The client cases against a real App Configuration store or Microsoft's emulator. Opt-in: set
/// SIGNAL_TEST_APPCONFIG to its connection string; without it every case is skipped and says so.
/// A run writes only under a fresh key prefix (and one stage flag) and deletes it afterwards.
/// </summary>
public sealed class RealStoreClientTests : IAsyncLifetime
{
    private RealStore? _store;

    private RealStore Store => _store ?? throw new InvalidOperationException("The store is not set up.");

    public Task InitializeAsync()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RealStore.Variable)))
        {
            _store = new RealStore();
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [RealStoreFact]
    public Task Listing_follows_every_page() => ClientCases.Listing_follows_every_page(Store);

    [RealStoreFact]
    public Task Unchanged_listing_is_not_modified_on_every_page() => ClientCases.Unchanged_listing_is_not_modified_on_every_page(Store);

    [RealStoreFact]
    public Task A_change_on_the_last_page_is_seen() => ClientCases.A_change_on_the_last_page_is_seen(Store);

    [RealStoreFact]
    public Task Label_filter_picks_no_label_one_label_or_any() => ClientCases.Label_filter_picks_no_label_one_label_or_any(Store);

    [RealStoreFact]
    public Task Get_reads_one_key_and_null_when_missing() => ClientCases.Get_reads_one_key_and_null_when_missing(Store);

    [RealStoreFact]
    public Task Get_if_changed_answers_not_modified_changed_and_not_found() =>
        ClientCases.Get_if_changed_answers_not_modified_changed_and_not_found(Store);

    [RealStoreFact]
    public Task A_stale_etag_is_a_concurrency_error() => ClientCases.A_stale_etag_is_a_concurrency_error(Store);

    [RealStoreFact]
    public Task A_locked_flag_is_a_locked_error() => ClientCases.A_locked_flag_is_a_locked_error(Store);

    [RealStoreFact]
    public Task A_reader_reads_its_own_write() => ClientCases.A_reader_reads_its_own_write(Store);

    [RealStoreFact]
    public Task A_wrong_secret_is_refused() => ClientCases.A_wrong_secret_is_refused(Store);

    [RealStoreFact]
    public Task A_stage_flag_round_trips_through_the_store() => ClientCases.A_stage_flag_round_trips_through_the_store(Store);

    [RealStoreFact]
    public Task A_stripped_stage_flag_is_replaced_by_the_stage_write() => ClientCases.A_stripped_stage_flag_is_replaced_by_the_stage_write(Store);
}
