#if FUNCTIONSCHAT_SURFACE
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace FunctionsChat.Tests.Surface;

/// <summary>
/// Writes an assembly's public and protected API one member a line, in the format of the real packages' listings
/// (shared/real-api/README.md), so each line the surface declares can be looked up there.
/// </summary>
public static class ApiListing
{
    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    // The listings were read against netstandard2.0, where System.Enum implements three interfaces;
    // these were added to it later and are not part of what a type declares.
    static readonly HashSet<string> RuntimeOnlyInterfaces = ["System.ISpanFormattable", "System.IUtf8SpanFormattable"];

    public static IEnumerable<(Type Type, string Line, MemberInfo? Member)> Lines(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes().Where(IsVisible).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            yield return (type, TypeLine(type), null);
            foreach (var member in type.GetMembers(Declared))
            {
                if (MemberLine(type, member) is { } line)
                {
                    yield return (type, line, member);
                }
            }
        }
    }

    public static string TypeName(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying) + "?";
        }

        string name = type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Namespace + "." + type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        var arguments = type.IsNested ? type.GetGenericArguments().Skip(type.DeclaringType!.GetGenericArguments().Length) : type.GetGenericArguments();
        var list = arguments.ToList();
        return list.Count == 0 ? name : $"{name}<{string.Join(", ", list.Select(TypeName))}>";
    }

    static bool IsVisible(Type type) =>
        type.IsPublic || (type.IsNestedPublic && IsVisible(type.DeclaringType!)) || (type.IsNestedFamily && IsVisible(type.DeclaringType!));

    static string TypeLine(Type type)
    {
        string kind = type.IsInterface ? "interface"
            : typeof(MulticastDelegate).IsAssignableFrom(type.BaseType) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class"
            : type.IsSealed ? "sealed class"
            : "class";

        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType)
            && baseType != typeof(Enum) && baseType != typeof(MulticastDelegate))
        {
            bases.Add(TypeName(baseType));
        }

        bases.AddRange(type.GetInterfaces().Select(TypeName).Where(n => !RuntimeOnlyInterfaces.Contains(n)).Order(StringComparer.Ordinal));
        var line = new StringBuilder($"T {TypeName(type)} [{kind}]");
        if (bases.Count > 0)
        {
            line.Append(" : ").Append(string.Join(", ", bases));
        }

        if (type.IsGenericTypeDefinition)
        {
            line.Append(Constraints(type.GetGenericArguments()));
        }

        return line.ToString();
    }

    static string? MemberLine(Type type, MemberInfo member)
    {
        string owner = TypeName(type);
        switch (member)
        {
            case ConstructorInfo { IsStatic: false } constructor when Access(constructor) is { } access:
                return $"  C {owner}({Parameters(constructor.GetParameters(), false)}) [{access}]";
            case MethodInfo method when (!method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal)) && Access(method) is { } access:
                string generic = method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(TypeName))}>" : "";
                string constraints = method.IsGenericMethodDefinition ? Constraints(method.GetGenericArguments()) : "";
                bool extension = method.IsDefined(typeof(ExtensionAttribute), false);
                return $"  M {owner}.{method.Name}{generic}({Parameters(method.GetParameters(), extension)}) : {TypeName(method.ReturnType)} [{Modifiers(access, method, type)}]{constraints}";
            case PropertyInfo property:
                return PropertyLine(owner, type, property);
            case FieldInfo field when field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly:
                string value = field.IsLiteral ? " = " + Literal(field.GetRawConstantValue()) : "";
                return $"  F {owner}.{field.Name} : {TypeName(field.FieldType)}{value}{(field.IsStatic ? " [static]" : "")}";
            default:
                return null;
        }
    }

    static string? PropertyLine(string owner, Type type, PropertyInfo property)
    {
        var getter = property.GetMethod is { } g && Access(g) is not null ? g : null;
        var setter = property.SetMethod is { } s && Access(s) is not null ? s : null;
        var main = getter ?? setter;
        if (main is null)
        {
            return null;
        }

        bool init = setter?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) == true;
        string accessors = (getter is null ? "" : "get; ") + (setter is null ? "" : init ? "init; " : "set; ");
        var indexParameters = property.GetIndexParameters();
        string name = indexParameters.Length == 0 ? property.Name : $"this[{Parameters(indexParameters, false)}]";
        return $"  P {owner}.{name} : {TypeName(property.PropertyType)} {{ {accessors}}} [{Modifiers(Access(main)!, main, type)}]";
    }

    static string? Access(MethodBase method) =>
        method.IsPublic ? "public" : method.IsFamily ? "protected" : method.IsFamilyOrAssembly ? "protected internal" : null;

    static string Modifiers(string access, MethodInfo method, Type type)
    {
        if (method.IsStatic)
        {
            return access + " static";
        }

        if (method.IsAbstract)
        {
            return access + " abstract";
        }

        bool overrides = method.GetBaseDefinition().DeclaringType != method.DeclaringType;
        if (!method.IsVirtual || (method.IsFinal && !overrides))
        {
            // Not virtual, or an interface implementation the compiler sealed.
            return access;
        }

        return access + (overrides ? method.IsFinal ? " sealed override" : " override" : " virtual");
    }

    static string Parameters(ParameterInfo[] parameters, bool extension) =>
        string.Join(", ", parameters.Select((p, i) => Parameter(p, extension && i == 0)));

    static string Parameter(ParameterInfo parameter, bool isThis)
    {
        string prefix = isThis ? "this "
            : parameter.IsOut ? "out "
            : parameter.ParameterType.IsByRef && parameter.IsIn ? "in "
            : parameter.ParameterType.IsByRef ? "ref "
            : parameter.IsDefined(typeof(ParamArrayAttribute), false) ? "params "
            : "";
        string text = $"{prefix}{TypeName(parameter.ParameterType)} {parameter.Name}";
        return parameter.HasDefaultValue ? $"{text} = {Literal(parameter.RawDefaultValue)}" : text;
    }

    static string Literal(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => "\"" + s + "\"",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    static string Constraints(Type[] parameters)
    {
        var text = new StringBuilder();
        foreach (var parameter in parameters)
        {
            var parts = new List<string>();
            var attributes = parameter.GenericParameterAttributes;
            if (attributes.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint))
            {
                parts.Add("class");
            }

            if (attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint))
            {
                parts.Add("struct");
            }

            parts.AddRange(parameter.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(TypeName));
            if (attributes.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint))
            {
                parts.Add("new()");
            }

            if (parts.Count > 0)
            {
                text.Append($" where {parameter.Name} : {string.Join(", ", parts)}");
            }
        }

        return text.ToString();
    }
}
#endif
