//! The attribute macros of the `wasmudf-guest` crate: `#[function("SIGNATURE")]` exports a Rust
//! function as a wasmudf UDF and `#[aggregate("SIGNATURE")]` an `impl Aggregate`. Each writes
//! the function's metadata record (`wasmudf:1 KIND SIGNATURE`) into the `wasmudf` custom section
//! and the `wudf_fn_NAME` export of docs/abi.md, which calls the function through
//! `wasmudf_guest::__private`. The signature is parsed just far enough to compare its argument
//! and result types with the Rust types of the function; a mismatch is a compile error that names
//! both. The host parses and checks the whole signature when it loads the module.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{FnArg, GenericArgument, Ident, ItemFn, ItemImpl, LitStr, PathArguments, ReturnType, Token, Type};

/// The attribute's arguments: the signature and an optional `batch`.
struct Attribute {
    signature: LitStr,
    batch: bool,
}

impl Parse for Attribute {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let signature: LitStr = input.parse()?;
        let mut batch = false;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let word: Ident = input.parse()?;
            if word != "batch" {
                return Err(syn::Error::new(word.span(), "expected `batch` after the signature"));
            }
            batch = true;
        }
        Ok(Self { signature, batch })
    }
}

/// A signature split into the parts the macros use.
struct Signature {
    name: String,
    /// The argument types (without their names), lowercase.
    arguments: Vec<String>,
    /// The result type, for a table function the output columns (name, type).
    result: String,
    columns: Option<Vec<(String, String)>>,
    /// Whether a null clause was written, and which.
    called_on_null: Option<bool>,
}

/// Splits `text` at the commas outside brackets and quotes.
fn split_top(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '<' | '(') => depth += 1,
            (None, '>' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

/// The position just past the bracket that closes the one opened at `open` (an index of
/// `text`), or None.
fn closing(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The type of an argument `TYPE [NAME]`, lowercase, without its name.
fn argument_type(argument: &str) -> String {
    let argument = argument.trim();
    if let Some((head, last)) = argument.rsplit_once(char::is_whitespace) {
        let is_name = last.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !head.trim().is_empty()
            && !head.trim_end().ends_with(',');
        if is_name {
            return head.trim().to_ascii_lowercase();
        }
    }
    argument.to_ascii_lowercase()
}

/// Parses the parts of `text` that the macros need.
fn parse_signature(text: &str) -> Result<Signature, String> {
    let open = text.find('(').ok_or("the signature has no `(`")?;
    let name = text[..open].trim().to_owned();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a function name"));
    }
    let close = closing(text, open).ok_or("the argument list is not closed")?;
    let arguments = split_top(&text[open + 1..close - 1]).iter().map(|a| argument_type(a)).collect();
    let rest = text[close..].trim_start();
    let rest = rest.strip_prefix("->").ok_or("expected `->` after the arguments")?.trim();
    // The clauses start at the first upper- or lowercase clause word outside brackets.
    let lower = rest.to_ascii_lowercase();
    let mut end = rest.len();
    for word in [" state ", " returns null", " called on", " deterministic", " not deterministic"] {
        let padded = format!("{lower} ");
        let mut from = 0;
        while let Some(at) = padded[from..].find(word) {
            let at = from + at;
            let depth: i32 = lower[..at].chars().map(|c| match c {
                '<' | '(' => 1,
                '>' | ')' => -1,
                _ => 0,
            }).sum();
            if depth == 0 {
                end = end.min(at);
                break;
            }
            from = at + 1;
        }
    }
    let result = rest[..end].trim().to_ascii_lowercase();
    let clauses = lower[end..].to_owned();
    let called_on_null = if clauses.contains("called on null input") {
        Some(true)
    } else if clauses.contains("returns null on null input") {
        Some(false)
    } else {
        None
    };
    let columns = if let Some(column) = result.strip_prefix("setof ") {
        Some(vec![(name.clone(), column.trim().to_owned())])
    } else if result.starts_with("table<") && result.ends_with('>') {
        let fields = split_top(&rest[6..rest[..end].trim().len() - 1]);
        let mut columns = Vec::new();
        for field in fields {
            let (field_name, field_type) =
                field.split_once(':').ok_or(format!("table column `{field}` has no `:`"))?;
            columns.push((field_name.trim().to_owned(), field_type.trim().to_ascii_lowercase()));
        }
        Some(columns)
    } else {
        None
    };
    Ok(Signature { name, arguments, result, columns, called_on_null })
}

/// How the row-wise form reads and writes a type of the signature.
struct RowType {
    /// The Rust argument type (`i32`, `&str`).
    argument: &'static str,
    /// The Rust result types accepted.
    results: &'static [&'static str],
    /// The arrow-rs array and builder.
    array: &'static str,
    builder: &'static str,
}

/// The row-wise mapping of the signature type `name`, or None.
fn row_type(name: &str) -> Option<RowType> {
    let (argument, results, array, builder): (&str, &[&str], &str, &str) = match name {
        "int8" => ("i8", &["i8"], "Int8Array", "Int8Builder"),
        "int16" => ("i16", &["i16"], "Int16Array", "Int16Builder"),
        "int32" => ("i32", &["i32"], "Int32Array", "Int32Builder"),
        "int64" => ("i64", &["i64"], "Int64Array", "Int64Builder"),
        "uint8" => ("u8", &["u8"], "UInt8Array", "UInt8Builder"),
        "uint16" => ("u16", &["u16"], "UInt16Array", "UInt16Builder"),
        "uint32" => ("u32", &["u32"], "UInt32Array", "UInt32Builder"),
        "uint64" => ("u64", &["u64"], "UInt64Array", "UInt64Builder"),
        "float32" | "float" => ("f32", &["f32"], "Float32Array", "Float32Builder"),
        "float64" | "double" => ("f64", &["f64"], "Float64Array", "Float64Builder"),
        "bool" | "boolean" => ("bool", &["bool"], "BooleanArray", "BooleanBuilder"),
        "date32" => ("i32", &["i32"], "Date32Array", "Date32Builder"),
        "date64" => ("i64", &["i64"], "Date64Array", "Date64Builder"),
        "utf8" | "string" => ("&str", &["String", "&str", "Box<str>"], "StringArray", "StringBuilder"),
        "large_utf8" | "large_string" => {
            ("&str", &["String", "&str", "Box<str>"], "LargeStringArray", "LargeStringBuilder")
        }
        "binary" => ("&[u8]", &["Vec<u8>", "&[u8]", "Box<[u8]>"], "BinaryArray", "BinaryBuilder"),
        "large_binary" => {
            ("&[u8]", &["Vec<u8>", "&[u8]", "Box<[u8]>"], "LargeBinaryArray", "LargeBinaryBuilder")
        }
        _ => return None,
    };
    Some(RowType { argument, results, array, builder })
}

/// A type written without paths, lifetimes or spaces (`Option<&str>`), to compare with the
/// signature's types.
fn type_key(ty: &Type) -> String {
    match ty {
        Type::Reference(r) => format!("&{}", type_key(&r.elem)),
        Type::Slice(s) => format!("[{}]", type_key(&s.elem)),
        Type::Paren(p) => type_key(&p.elem),
        Type::Group(g) => type_key(&g.elem),
        Type::Tuple(t) => {
            format!("({})", t.elems.iter().map(type_key).collect::<Vec<_>>().join(","))
        }
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else { return String::new() };
            let mut key = last.ident.to_string();
            if let PathArguments::AngleBracketed(args) = &last.arguments {
                let inner: Vec<String> = args
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        GenericArgument::Type(t) => Some(type_key(t)),
                        _ => None,
                    })
                    .collect();
                key = format!("{key}<{}>", inner.join(","));
            }
            key
        }
        other => quote!(#other).to_string().replace(' ', ""),
    }
}

/// The first type argument of `ty` if `ty` is `wrapper<...>` (`Option`, `Result`, `Vec`).
fn unwrap_generic<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The `Item` of `impl Iterator<Item = T>` / `impl IntoIterator<Item = T>`, or `T` of `Vec<T>`.
fn iterator_item(ty: &Type) -> Option<&Type> {
    if let Some(item) = unwrap_generic(ty, "Vec") {
        return Some(item);
    }
    let Type::ImplTrait(imp) = ty else { return None };
    imp.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(t) = bound else { return None };
        let last = t.path.segments.last()?;
        let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
        args.args.iter().find_map(|a| match a {
            GenericArgument::AssocType(assoc) if assoc.ident == "Item" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// Whether `ty` is an arrow-rs array (`&Int32Array`, `&ArrayRef`, `&dyn Array`): the function
/// is then vectorized.
fn is_array_type(ty: &Type) -> bool {
    let Type::Reference(r) = ty else { return false };
    match &*r.elem {
        Type::TraitObject(_) => true,
        elem => {
            let key = type_key(elem);
            key.ends_with("Array") || key == "ArrayRef" || key.starts_with("PrimitiveArray<")
                || key.starts_with("GenericByteArray<") || key.starts_with("GenericStringArray<")
        }
    }
}

fn error(span: Span, message: String) -> TokenStream {
    syn::Error::new(span, message).to_compile_error().into()
}

/// The tokens of a static holding the metadata record in the `wasmudf` custom section.
fn metadata(name: &str, record: &str) -> Tokens {
    let bytes = format!("{record}\0").into_bytes();
    let len = bytes.len();
    let literal = syn::LitByteStr::new(&bytes, Span::call_site());
    let ident = format_ident!("__WUDF_METADATA_{}", name.to_ascii_uppercase());
    quote! {
        #[doc(hidden)]
        #[unsafe(link_section = "wasmudf")]
        #[used]
        static #ident: [u8; #len] = *#literal;
    }
}

fn path(name: &str) -> Tokens {
    let ident = Ident::new(name, Span::call_site());
    quote!(::wasmudf_guest::__private::#ident)
}

/// Exports a Rust function as a wasmudf scalar, batch or table function.
///
/// `#[function("gcd(int32, int32) -> int32")]` on `fn gcd(a: i32, b: i32) -> i32` (row-wise),
/// on `fn gcd(a: &Int32Array, b: &Int32Array) -> Int32Array` (vectorized), with `, batch`
/// after the signature for a batch function, and with `-> setof T` / `-> table<...>` on a
/// row-wise function returning an iterator for a table function. See the crate's docs.
#[proc_macro_attribute]
pub fn function(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let attribute = syn::parse_macro_input!(attribute as Attribute);
    let function = syn::parse_macro_input!(item as ItemFn);
    match expand_function(&attribute, &function) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let mut tokens = e.to_compile_error();
            tokens.extend(quote!(#function));
            tokens.into()
        }
    }
}

fn expand_function(attribute: &Attribute, function: &ItemFn) -> syn::Result<Tokens> {
    let span = attribute.signature.span();
    let text = attribute.signature.value();
    let signature = parse_signature(&text).map_err(|e| syn::Error::new(span, e))?;
    let name = &signature.name;
    let fail = |message: String| syn::Error::new(span, format!("{name}: {message}"));
    let parameters: Vec<&Type> = function
        .sig
        .inputs
        .iter()
        .map(|input| match input {
            FnArg::Typed(t) => Ok(&*t.ty),
            FnArg::Receiver(r) => Err(syn::Error::new_spanned(r, "a UDF cannot take `self`")),
        })
        .collect::<syn::Result<_>>()?;
    if parameters.len() != signature.arguments.len() {
        return Err(fail(format!(
            "the signature has {} argument(s), the Rust function {}",
            signature.arguments.len(),
            parameters.len()
        )));
    }
    let vectorized = attribute.batch || (!parameters.is_empty() && parameters.iter().all(|t| is_array_type(t)));
    let table = signature.columns.is_some();
    if attribute.batch && (table || signature.called_on_null.is_some()) {
        return Err(fail("a batch function has no null clause and returns a struct".into()));
    }
    let optional: Vec<bool> =
        parameters.iter().map(|t| unwrap_generic(t, "Option").is_some()).collect();
    let mut record_signature = text.trim().to_owned();
    if optional.iter().any(|o| *o) && !vectorized {
        match signature.called_on_null {
            Some(false) => {
                return Err(fail(
                    "an Option argument sees nulls, but RETURNS NULL ON NULL INPUT never passes any"
                        .into(),
                ));
            }
            None => record_signature.push_str(" CALLED ON NULL INPUT"),
            Some(true) => {}
        }
    }
    let kind = if attribute.batch { "batch" } else if table { "table" } else { "scalar" };
    let record = format!("wasmudf:1 {kind} {record_signature}");
    let static_tokens = metadata(name, &record);
    let rust_name = &function.sig.ident;
    let export = format_ident!("wudf_fn_{}", name);
    let name_literal = name.as_str();
    let private = quote!(::wasmudf_guest::__private);
    let output = match &function.sig.output {
        ReturnType::Type(_, t) => Some(&**t),
        ReturnType::Default => None,
    };
    let Some(output) = output else {
        return Err(fail("a UDF returns a value".into()));
    };
    let (fallible, output) = match unwrap_generic(output, "Result") {
        Some(inner) => (true, inner),
        None => (false, output),
    };

    if vectorized {
        // Vectorized and batch functions: downcast each column to the parameter's array type.
        let count = parameters.len();
        let mut reads = Vec::new();
        let mut names = Vec::new();
        for (index, (ty, declared)) in parameters.iter().zip(&signature.arguments).enumerate() {
            let Type::Reference(reference) = ty else {
                return Err(fail(format!("argument {index} must be a reference to an array")));
            };
            let elem = &reference.elem;
            let key = type_key(elem);
            if let Some(expected) = row_type(declared) {
                if key.ends_with("Array") && !key.contains('<') && key != expected.array {
                    return Err(fail(format!(
                        "argument {index} is {declared} in the signature, so its Rust type must be \
                         &{} (or &ArrayRef), not &{key}",
                        expected.array
                    )));
                }
            }
            let variable = format_ident!("__wudf_a{}", index);
            let read = match (&**elem, key.as_str()) {
                (Type::TraitObject(_), _) => quote!(let #variable = __args.column(#index).as_ref();),
                (_, "ArrayRef") => quote!(let #variable = __args.column(#index);),
                _ => quote!(let #variable = #private::argument::<#elem>(#name_literal, __args, #index, #declared)?;),
            };
            reads.push(read);
            names.push(variable);
        }
        let call = if fallible {
            quote!(#rust_name(#(#names),*).map_err(|e| #private::call_error(#name_literal, e))?)
        } else {
            quote!(#rust_name(#(#names),*))
        };
        return Ok(quote! {
            #function
            #static_tokens
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn #export(
                args: *mut #private::FFI_ArrowArray, args_schema: *mut #private::FFI_ArrowSchema,
                out: *mut #private::FFI_ArrowArray, out_schema: *mut #private::FFI_ArrowSchema,
            ) -> i32 {
                unsafe {
                    #private::call(#name_literal, args, args_schema, out, out_schema, |__args| {
                        #private::expect_arguments(#name_literal, __args, #count)?;
                        #(#reads)*
                        Ok(#private::into_data(#call))
                    })
                }
            }
        });
    }

    // Row-wise functions (scalar and table): one Rust value per argument and row.
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut skips = Vec::new();
    for (index, (ty, declared)) in parameters.iter().zip(&signature.arguments).enumerate() {
        let Some(mapping) = row_type(declared) else {
            return Err(fail(format!(
                "argument {index} is {declared}, which the row-wise form does not support: take \
                 arrow-rs arrays instead (the vectorized form)"
            )));
        };
        let inner = unwrap_generic(ty, "Option").unwrap_or(ty);
        let key = type_key(inner);
        if key != mapping.argument {
            return Err(fail(format!(
                "argument {index} is {declared} in the signature, so its Rust type must be {} or \
                 Option<{}>, not {}",
                mapping.argument,
                mapping.argument,
                type_key(ty)
            )));
        }
        let array = path(mapping.array);
        let column = format_ident!("__wudf_c{}", index);
        columns.push(quote!(let #column = #private::argument::<#array>(#name_literal, __args, #index, #declared)?;));
        if optional[index] {
            values.push(quote!(if #column.is_null(__row) { None } else { Some(#column.value(__row)) }));
        } else {
            values.push(quote!(#column.value(__row)));
            skips.push(quote!(#column.is_null(__row)));
        }
    }
    let skip = if skips.is_empty() { quote!(false) } else { quote!(#(#skips)||*) };
    let count = parameters.len();

    if let Some(table_columns) = &signature.columns {
        let Some(item) = iterator_item(output) else {
            return Err(fail(
                "a table function returns `impl Iterator<Item = ...>`, `impl IntoIterator<Item = \
                 ...>` or a Vec (the row type must be visible)"
                    .into(),
            ));
        };
        if type_key(item).contains('&') {
            return Err(fail(
                "a table function's rows must own their values (String, Vec<u8>), since the \
                 crate keeps them between calls"
                    .into(),
            ));
        }
        let items: Vec<&Type> = match item {
            Type::Tuple(t) if table_columns.len() > 1 => t.elems.iter().collect(),
            other => vec![other],
        };
        if items.len() != table_columns.len() {
            return Err(fail(format!(
                "the signature has {} column(s), the iterator's rows {}",
                table_columns.len(),
                items.len()
            )));
        }
        let mut builders = Vec::new();
        let mut builder_types = Vec::new();
        for ((column, declared), ty) in table_columns.iter().zip(&items) {
            let Some(mapping) = row_type(declared) else {
                return Err(fail(format!("column {column} is {declared}, which table functions do not support")));
            };
            let key = type_key(unwrap_generic(ty, "Option").unwrap_or(ty));
            if !mapping.results.contains(&key.as_str()) {
                return Err(fail(format!(
                    "column {column} is {declared} in the signature, so its Rust type must be one \
                     of {} (or an Option of one), not {}",
                    mapping.results.join(", "),
                    type_key(ty)
                )));
            }
            let builder = path(mapping.builder);
            builders.push(quote!(#builder::new()));
            builder_types.push(builder);
        }
        let column_names: Vec<&str> = table_columns.iter().map(|(n, _)| n.as_str()).collect();
        let indices: Vec<syn::Index> = (0..items.len()).map(syn::Index::from).collect();
        let append = if items.len() == 1 {
            quote!(::wasmudf_guest::AppendTo::append_to(item, &mut builders.0);)
        } else {
            let parts: Vec<Ident> = (0..items.len()).map(|i| format_ident!("__wudf_v{}", i)).collect();
            quote! {
                let (#(#parts,)*) = item;
                #(::wasmudf_guest::AppendTo::append_to(#parts, &mut builders.#indices);)*
            }
        };
        let call = if fallible {
            quote!(#rust_name(#(#values),*).map_err(|e| #private::row_error(#name_literal, e, __row))?)
        } else {
            quote!(#rust_name(#(#values),*))
        };
        let marker = format_ident!("__WudfTable_{}", name);
        return Ok(quote! {
            #function
            #static_tokens
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            struct #marker;
            impl #private::TableFunction for #marker {
                type Item = #item;
                type Builders = (#(#builder_types,)*);
                const NAME: &'static str = #name_literal;
                const COLUMNS: &'static [&'static str] = &[#(#column_names),*];
                fn start(
                    __args: &'static #private::StructArray,
                    __row: usize,
                ) -> Result<Option<Box<dyn Iterator<Item = Self::Item>>>, String> {
                    use #private::Array as _;
                    #private::expect_arguments(#name_literal, __args, #count)?;
                    #(#columns)*
                    if #skip {
                        return Ok(None);
                    }
                    Ok(Some(Box::new(::core::iter::IntoIterator::into_iter(#call))))
                }
                fn builders() -> Self::Builders {
                    (#(#builders,)*)
                }
                fn append(builders: &mut Self::Builders, item: Self::Item) {
                    #append
                }
                fn finish(mut builders: Self::Builders) -> Vec<#private::ArrayRef> {
                    vec![#(::std::sync::Arc::new(builders.#indices.finish()) as #private::ArrayRef),*]
                }
            }
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn #export(
                args: *mut #private::FFI_ArrowArray, args_schema: *mut #private::FFI_ArrowSchema,
                out: *mut #private::FFI_ArrowArray, out_schema: *mut #private::FFI_ArrowSchema,
                control: *mut #private::Control,
            ) -> i32 {
                unsafe { #private::table_call::<#marker>(args, args_schema, out, out_schema, control) }
            }
        });
    }

    // Row-wise scalar functions.
    let Some(result) = row_type(&signature.result) else {
        return Err(fail(format!(
            "the result is {}, which the row-wise form does not support: return an arrow-rs \
             array instead (the vectorized form)",
            signature.result
        )));
    };
    let result_key = type_key(unwrap_generic(output, "Option").unwrap_or(output));
    if !result.results.contains(&result_key.as_str()) {
        return Err(fail(format!(
            "the result is {} in the signature, so the Rust result must be one of {} (or an \
             Option or Result of one), not {}",
            signature.result,
            result.results.join(", "),
            type_key(output)
        )));
    }
    let builder = path(result.builder);
    let new_builder = if result.builder.contains("String") || result.builder.contains("Binary") {
        quote!(#builder::with_capacity(__rows, 0))
    } else {
        quote!(#builder::with_capacity(__rows))
    };
    let value = if fallible {
        quote!(match #rust_name(#(#values),*) {
            Ok(value) => value,
            Err(e) => return Err(#private::row_error(#name_literal, e, __row)),
        })
    } else {
        quote!(#rust_name(#(#values),*))
    };
    Ok(quote! {
        #function
        #static_tokens
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn #export(
            args: *mut #private::FFI_ArrowArray, args_schema: *mut #private::FFI_ArrowSchema,
            out: *mut #private::FFI_ArrowArray, out_schema: *mut #private::FFI_ArrowSchema,
        ) -> i32 {
            use #private::Array as _;
            unsafe {
                #private::call(#name_literal, args, args_schema, out, out_schema, |__args| {
                    #private::expect_arguments(#name_literal, __args, #count)?;
                    #(#columns)*
                    let __rows = __args.len();
                    let mut __builder = #new_builder;
                    for __row in 0..__rows {
                        if #skip {
                            __builder.append_null();
                            continue;
                        }
                        ::wasmudf_guest::AppendTo::append_to(#value, &mut __builder);
                    }
                    Ok(#private::into_data(__builder.finish()))
                })
            }
        }
    })
}

/// Exports an `impl wasmudf_guest::Aggregate for T` as the aggregate function of the signature
/// (`#[aggregate("mean(float64) -> float64 STATE struct<sum: float64, count: int64>")]`).
#[proc_macro_attribute]
pub fn aggregate(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let signature_literal = syn::parse_macro_input!(attribute as LitStr);
    let implementation = syn::parse_macro_input!(item as ItemImpl);
    let text = signature_literal.value();
    let signature = match parse_signature(&text) {
        Ok(s) => s,
        Err(e) => return error(signature_literal.span(), e),
    };
    if !text.to_ascii_lowercase().contains(" state ") {
        return error(signature_literal.span(), format!("{}: an aggregate declares its STATE type", signature.name));
    }
    let name = signature.name.as_str();
    let static_tokens = metadata(name, &format!("wasmudf:1 aggregate {}", text.trim()));
    let export = format_ident!("wudf_fn_{}", name);
    let self_type = &implementation.self_ty;
    let private = quote!(::wasmudf_guest::__private);
    quote! {
        #implementation
        #static_tokens
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn #export(
            args: *mut #private::FFI_ArrowArray, args_schema: *mut #private::FFI_ArrowSchema,
            out: *mut #private::FFI_ArrowArray, out_schema: *mut #private::FFI_ArrowSchema,
            control: *mut #private::Control,
        ) -> i32 {
            unsafe {
                #private::aggregate_call::<#self_type>(#name, args, args_schema, out, out_schema, control)
            }
        }
    }
    .into()
}
