namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// Every page of a listing, with their ETags for the next conditional listing. <see cref="Unchanged"/>:
/// every page answered 304 to its ETag and no page came or went, so the caller's copy is current.
/// </summary>
public sealed record KeyValueListing(IReadOnlyList<KeyValuePage> Pages, bool Unchanged)
{
    public IEnumerable<KeyValue> Items => Pages.SelectMany(page => page.Items);

    /// <summary>Null where the service sent no page ETag; such a page never counts as unchanged.</summary>
    public IReadOnlyList<string?> PageETags => Pages.Select(page => page.ETag).ToList();
}
