namespace SignalFunctions.Ingest;

public static class SignalVocabulary
{
    public static readonly IReadOnlySet<string> TargetTypes = new HashSet<string>(StringComparer.Ordinal)
        { "article", "tutor", "listing", "booking", "referral", "wiselist_item" };

    public static readonly IReadOnlySet<string> EventTypes = new HashSet<string>(StringComparer.Ordinal)
        { "impression", "click", "save", "refer", "convert" };

    public static readonly IReadOnlySet<string> SourceComponents = new HashSet<string>(StringComparer.Ordinal)
        { "listing_grid", "tutor_embed", "tutor_carousel", "cta_button", "inline_link", "floating_save", "article_header", "distribution" };
}
