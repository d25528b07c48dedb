using System.Globalization;
using Microsoft.Extensions.Options;

namespace SignalFunctions.Migrations;

/// <summary>
/// A per-migration argument that names no migration or argument, is not a whole number or is out
/// of range stops the start: a typo would otherwise silently leave the default in force.
/// </summary>
public sealed class ArgumentsValidator : IValidateOptions<MigrationOptions>
{
    public ValidateOptionsResult Validate(string? name, MigrationOptions options)
    {
        var wrong = new List<string>();
        foreach (var (migration, values) in options.Arguments)
        {
            var declared = MigrationCatalog.All.FirstOrDefault(m => MigrationOptions.SameMigration(migration, m.Name));
            foreach (var (argument, text) in values)
            {
                var setting = $"Migrations:Arguments:{migration}:{argument}";
                var known = declared?.Arguments.FirstOrDefault(a => string.Equals(a.Name, argument, StringComparison.OrdinalIgnoreCase));
                if (declared is null)
                {
                    wrong.Add($"{setting}: there is no migration '{migration}' (known: {string.Join(", ", MigrationCatalog.All.Select(m => m.Name))})");
                }
                else if (known is null)
                {
                    wrong.Add($"{setting}: {declared.Name} has no argument '{argument}'" +
                              (declared.Arguments.Count == 0 ? " (it takes none)" : $" (it takes: {string.Join(", ", declared.Arguments.Select(a => a.Name))})"));
                }
                else if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < known.Min || value > known.Max)
                {
                    wrong.Add($"{setting} = '{text}': must be a whole number from {known.Min} to {known.Max} ({known.Description})");
                }
            }
        }
        return wrong.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(wrong);
    }
}
