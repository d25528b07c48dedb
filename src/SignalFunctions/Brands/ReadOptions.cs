using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SignalFunctions.Stages;

namespace SignalFunctions.Brands;

/// <summary>
/// Settings under "Reads:". ComparePercent is the share of reads compared with the other side in
/// shadow and live. Every other key names a reader and pins its side, overriding the stage for that
/// reader only (the plan's per-service flags), e.g. Reads__dashboard=legacy, Reads__topics=new.
/// </summary>
public sealed class ReadOptions
{
    public const string Section = "Reads";

    [Range(0, 100)]
    public double ComparePercent { get; set; } = 10;

    /// <summary>Reader name → side, from the keys of the section other than ComparePercent.</summary>
    public Dictionary<string, Side> Readers { get; } = new(StringComparer.Ordinal);

    /// <summary>Raw values as configured, checked at start-up (<see cref="Validator"/>).</summary>
    public Dictionary<string, string?> ReaderSettings { get; } = new(StringComparer.Ordinal);

    public static void Bind(ReadOptions options, IConfiguration configuration)
    {
        foreach (var child in configuration.GetSection(Section).GetChildren())
        {
            if (!string.Equals(child.Key, nameof(ComparePercent), StringComparison.OrdinalIgnoreCase))
            {
                options.ReaderSettings[child.Key] = child.Value;
                if (child.Value is "legacy" or "new")
                {
                    options.Readers[child.Key] = child.Value == "legacy" ? Side.Legacy : Side.New;
                }
            }
        }
    }

    /// <summary>A switch that is neither legacy nor new stops the start: a typo would silently read the wrong side.</summary>
    public sealed class Validator : IValidateOptions<ReadOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReadOptions options)
        {
            var wrong = options.ReaderSettings
                .Where(s => s.Value is not ("legacy" or "new") || !BrandReportsApi.IsReaderName(s.Key))
                .Select(s => $"{Section}:{s.Key} = '{s.Value}': a reader switch needs a name of lowercase letters, digits, '-' or '_' and the value legacy or new")
                .ToList();
            return wrong.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(wrong);
        }
    }
}
